"""Attachments over HTTP: add files to a complaint later, download one, and the multipart
variant of `POST /v1/complaints` (a `complaint` part with the usual JSON, plus `file` parts).

Only who may read the complaint may add or download its files (the citizen with its access
token, the assigned OPD, operators); anyone else gets the same 404 as for the complaint. Every
file is judged by its content (`domain/attachments.py`): a refused file refuses the whole
request with a problem document that says why, and nothing is recorded. A download is always
`Content-Disposition: attachment` with `X-Content-Type-Options: nosniff` and a sandboxing CSP,
so a browser never renders a stored file as a page of ours.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from intake import handlers
from intake.adapters.blobs import BlobNotFound
from intake.auth import current_caller
from intake.domain.attachments import EXTENSIONS, Attachment, AttachmentRefused
from intake.handlers import Caller
from backbone.problems import problem
from intake.schemas import AttachmentView, Problem, SubmitComplaintRequest

router = APIRouter(prefix="/v1", tags=["attachments"])
TrackingNumber = Annotated[str, Path(pattern=r"^[0-9]{1,20}$", description="The numeric tracking number")]
CallerDep = Annotated[Caller, Depends(current_caller)]
NOTE_MAX = 1000

_PROBLEM = {"content": {"application/problem+json": {
    "schema": {"$ref": "#/components/schemas/Problem"}}}, "model": Problem}
_NOT_FOUND = {"description": "No such complaint (or attachment) for this caller", **_PROBLEM}
_REFUSED = {
    413: {"description": "A file, or the whole upload, is too large", **_PROBLEM},
    415: {"description": "A file is not a photo (JPEG, PNG, WebP), PDF or video (MP4, "
                         "QuickTime, WebM), or its declared type disagrees with its content",
          **_PROBLEM},
    422: {"description": "A file cannot be decoded, has too many pixels, or the complaint "
                         "would hold too many files", **_PROBLEM},
}
UPLOAD_DESCRIPTION = (
    "multipart/form-data: one or more `file` parts (photos JPEG/PNG/WebP up to 10 MB, PDF up to "
    "10 MB, MP4/QuickTime/WebM video up to 30 MB by default) and an optional `note`. The type "
    "is read from the content, not from the declared Content-Type; photos are re-encoded "
    "without EXIF, GPS or any other metadata, and videos lose their metadata boxes.")


class AttachmentList(BaseModel):
    items: list[AttachmentView]


def attachment_url(base_url: str, tracking_number: str, attachment_id: uuid.UUID) -> str:
    return f"{base_url}/v1/complaints/{tracking_number}/attachments/{attachment_id}"


def views(attachments: list[Attachment], base_url: str, tracking_number: str) -> list[AttachmentView]:
    return [AttachmentView(id=str(a.id), content_type=a.content_type, size=a.size,
                           uploaded_at=a.uploaded_at, uploaded_by_role=a.uploaded_by_role,
                           url=attachment_url(base_url, tracking_number, a.id))
            for a in attachments]


def refused(exc: AttachmentRefused) -> JSONResponse:
    return problem(exc.status, exc.slug, "This file is not accepted", exc.reason)


def too_many(exc: handlers.TooManyAttachments) -> JSONResponse:
    return problem(422, "too-many-attachments", "Too many attachments",
                   f"A complaint holds at most {exc.limit} files.", limit=exc.limit)


def _not_found() -> HTTPException:
    return HTTPException(404, "No complaint with this tracking number for this caller")


async def read_files(request: Request, *, fields: tuple[str, ...]
                     ) -> tuple[list[tuple[bytes, str | None, str | None]], dict[str, str]]:
    """The `file` parts (bytes, declared type, file name) and the named text fields. The body
    is already bounded by the upload limit (backbone.http_limits); the parser is bounded too."""
    settings = request.app.state.settings
    form = await request.form(max_files=settings.attachment_files_per_request,
                              max_fields=len(fields) + 2, max_part_size=64 * 1024)
    try:
        files, texts = [], {}
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key != "file" and key not in fields:
                    _invalid(key, "unexpected file part; send files as `file`")
                if key == "file":
                    files.append((await value.read(), value.content_type, value.filename))
                else:
                    texts[key] = (await value.read()).decode("utf-8", "replace")
            elif key in fields:
                texts[key] = value
            else:
                _invalid(key, "unexpected field")
        return files, texts
    finally:
        await form.close()


def _invalid(field: str, message: str, code: str = "value_error") -> None:
    raise RequestValidationError([{"loc": ("body", field), "msg": message, "type": code}])


@router.post("/complaints/{tracking_number}/attachments", status_code=201,
             response_model=AttachmentList,
             summary="Add photos, PDF or video to a complaint",
             description="For whoever may read the complaint: the citizen (Bearer access token), "
                         "the assigned OPD and operators. " + UPLOAD_DESCRIPTION
                         + " Not a lifecycle action: the status does not change. Answers every "
                           "attachment of the complaint.",
             openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
                 "schema": {"type": "object", "required": ["file"], "properties": {
                     "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
                     "note": {"type": "string", "maxLength": NOTE_MAX}}}}}}},
             responses={401: {"description": "No token", **_PROBLEM}, 404: _NOT_FOUND,
                        **_REFUSED})
async def add_attachments(tracking_number: TrackingNumber, request: Request, caller: CallerDep):
    state = request.app.state
    deps: handlers.AttachDeps = state.attach_deps
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        return problem(415, "unsupported-media-type", "Send multipart/form-data",
                       "Attach files as `file` parts of a multipart/form-data body.")
    async with state.runtime.unit_of_work() as uow:   # before reading a byte of the files
        try:
            await handlers.check_may_attach(tracking_number, caller, uow, deps, 0)
        except handlers.NotFound:
            raise _not_found() from None
    uploads, texts = await read_files(request, fields=("note",))
    note = (texts.get("note") or "").strip() or None
    if not uploads:
        _invalid("file", "at least one file is required", "missing")
    if note is not None and (len(note) > NOTE_MAX or "\x00" in note):
        _invalid("note", f"at most {NOTE_MAX} characters, no NUL")
    try:
        async with state.runtime.unit_of_work() as uow:
            await handlers.check_may_attach(tracking_number, caller, uow, deps, len(uploads))
        stored = await handlers.store_files(uploads, deps)
        async with state.runtime.unit_of_work() as uow:
            complaint, attachments = await handlers.add_attachments(
                tracking_number, stored, caller, uow, deps, note)
    except handlers.NotFound:
        raise _not_found() from None
    except AttachmentRefused as exc:
        return refused(exc)
    except handlers.TooManyAttachments as exc:
        return too_many(exc)
    base = state.settings.public_base_url
    return AttachmentList(items=views(attachments, base, complaint.tracking_number))


@router.get("/complaints/{tracking_number}/attachments/{attachment_id}",
            summary="Download one attachment",
            description="Only for whoever may read the complaint. Served with the type found "
                        "in its content, as a download (`Content-Disposition: attachment`), "
                        "never to be rendered inline.",
            response_class=Response,
            responses={200: {"description": "The file", "content": {
                           t: {"schema": {"type": "string", "format": "binary"}}
                           for t in EXTENSIONS}},
                       401: {"description": "No token", **_PROBLEM}, 404: _NOT_FOUND})
async def download(tracking_number: TrackingNumber, attachment_id: uuid.UUID, request: Request,
                   caller: CallerDep) -> Response:
    state = request.app.state
    async with state.runtime.unit_of_work() as uow:
        try:
            attachment = await handlers.read_attachment(tracking_number, attachment_id, caller, uow)
        except handlers.NotFound:
            raise _not_found() from None
    try:
        data = await state.attach_deps.blobs.get(attachment.sha256)
    except BlobNotFound:
        raise HTTPException(404, "The file of this attachment is missing") from None
    name = f"lampiran-{attachment.id}.{EXTENSIONS.get(attachment.content_type, 'bin')}"
    return Response(data, media_type=attachment.content_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
    })


# ---- the multipart variant of POST /v1/complaints


Submit = Callable[..., Awaitable[tuple[BaseModel, dict[str, str]]]]


def json_or_multipart(submit: Callable[[], Submit]) -> type[APIRoute]:
    """A route class for `POST /v1/complaints`: JSON goes to FastAPI's own handler of the
    route, untouched (the same validation, answers and OpenAPI body); multipart/form-data goes
    to `submit_multipart`, which ends in the same `submit` function (`submit()` returns it)."""

    class JsonOrMultipart(APIRoute):
        def get_route_handler(self):
            json_handler = super().get_route_handler()

            async def handler(request: Request) -> Response:
                if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
                    return await submit_multipart(request, submit())
                return await json_handler(request)
            return handler

    return JsonOrMultipart


SUBMIT_MULTIPART_DOC = {"requestBody": {"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["complaint"], "properties": {
        "complaint": {"type": "string", "contentMediaType": "application/json",
                      "description": "The complaint as JSON, exactly the application/json body"},
        "file": {"type": "array", "items": {"type": "string", "format": "binary"},
                 "description": "Photos, PDF or video"}}},
    "encoding": {"complaint": {"contentType": "application/json"}}}}}}


async def submit_multipart(request: Request, submit: Submit) -> Response:
    """Parse the `complaint` part as the JSON body would be, clean and store the files, then
    file the complaint and record the files in one transaction."""
    key = request.headers.get("idempotency-key")
    if key is not None and not 8 <= len(key) <= 255:
        raise RequestValidationError([{"loc": ("header", "idempotency-key"), "type": "string_length",
                                       "msg": "must have 8 to 255 characters"}])
    uploads, texts = await read_files(request, fields=("complaint",))
    if "complaint" not in texts:
        _invalid("complaint", "Field required: the complaint as JSON", "missing")
    try:
        body = SubmitComplaintRequest.model_validate_json(texts["complaint"])
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", "complaint", *e["loc"])}
                                      for e in json.loads(exc.json(include_url=False))]) from None
    try:
        stored = await handlers.store_files(uploads, request.app.state.attach_deps)
        receipt, headers = await submit(body, request, key, stored)
    except AttachmentRefused as exc:
        return refused(exc)
    except handlers.TooManyAttachments as exc:
        return too_many(exc)
    return JSONResponse(receipt.model_dump(mode="json"), status_code=201, headers=headers)
