"""Open311 GeoReport v2 under `/open311/v2/`, with mySociety's `servicerequestupdates`.

Every resource answers as `<name>.json` or `<name>.xml` (the bare name is JSON). Arguments are
read here, not by FastAPI's validation, so every refusal is the spec's error list (400 missing
or invalid argument, 403 bad api_key, 404 unknown) and never an RFC 9457 problem. Reads are
public: no reporter, no rahasia complaint, text redacted (see `mapping`). Posting needs an
`api_key` issued to the front end (`POST /v1/api-keys`); a front end may post updates only to
the complaints it submitted.
"""

from __future__ import annotations

import dataclasses

import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from contracts import taxonomy as taxonomy_data
from contracts.lifecycle import TransitionNotAllowed
from intake import handlers
from intake.adapters.open311 import ApiKey, Open311Request
from intake.domain.actions import ActionRefused, TakeAction
from intake.domain.queries import ComplaintQuery
from intake.open311 import mapping
from intake.open311.errors import Open311Error
from intake.open311.render import Format, fmt_of, render

router = APIRouter(prefix="/open311/v2", tags=["open311"])

TAXONOMY = taxonomy_data.load()
CHANGESET = datetime(2026, 11, 23, tzinfo=timezone.utc)   # when the taxonomy last changed
DEFAULT_DAYS, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_UPDATES = 90, 50, 200, 1000
_NUMBER = "0123456789"

Endpoint = Callable[[Request, Format, str | None], Awaitable[Response]]


def _resource(path: str, methods: list[str], summary: str, *, named: bool = False):
    """Register `endpoint` at `path`, `path.json` and `path.xml` (or, for `path/{name}`, with
    the suffix split off the name: service codes contain dots), answering Open311 errors."""

    def register(endpoint: Endpoint) -> Endpoint:
        async def answer(request: Request) -> Response:
            name = request.path_params.get("name")
            fmt: Format = "json"
            if named:
                name, suffix = fmt_of(name)
                fmt = suffix or "json"
            elif request.url.path.endswith(".xml"):
                fmt = "xml"
            try:
                return await endpoint(request, fmt, name)
            except Open311Error as exc:
                return exc.response(fmt)

        answer.__name__ = endpoint.__name__   # not functools.wraps: FastAPI would read its signature
        answer.__doc__ = endpoint.__doc__
        if named:
            router.add_api_route(path + "/{name}", answer, methods=methods, summary=summary,
                                 response_class=Response)
        else:
            for suffix in ("", ".json", ".xml"):
                router.add_api_route(path + suffix, answer, methods=methods, summary=summary,
                                     response_class=Response, include_in_schema=suffix != "")
        return endpoint

    return register


# ---- arguments


async def _form(request: Request) -> mapping.Form:
    """Query string and form body together (the body wins), as the spec's clients send them."""
    items = list(request.query_params.multi_items())
    if request.method == "POST":
        try:
            form = await request.form()
        except Exception:   # a malformed multipart body: the client's error, named as such
            raise Open311Error(400, "the body must be application/x-www-form-urlencoded") from None
        items += [(k, v) for k, v in form.multi_items() if not isinstance(v, UploadFile)]
    return mapping.Form(items)


def _jurisdiction(request: Request, form: mapping.Form) -> str:
    settings = request.app.state.settings
    wanted = form.get("jurisdiction_id", 80)
    known = settings.open311_jurisdiction_ids()
    if wanted is None:
        return settings.default_jurisdiction
    if wanted not in known:
        raise Open311Error(404, f"jurisdiction_id {wanted!r} is not served here")
    return wanted


async def _front_end(form: mapping.Form, uow) -> ApiKey:
    key = form.get("api_key", 200)
    found = await uow.open311.key_by_digest(mapping.api_key_digest(key)) if key else None
    if found is None:
        raise Open311Error(403, "api_key is missing or not valid")
    return found


def _int(form: mapping.Form, name: str, default: int, top: int) -> int:
    raw = form.get(name, 12)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= top:
        raise Open311Error(400, f"{name} must be a whole number from 1 to {top}")
    return int(raw)


def _zone(request: Request):
    return ZoneInfo(request.app.state.settings.open311_timezone)


def _clock(request: Request) -> datetime:
    return request.app.state.clock()


# ---- GeoReport v2


@_resource("/discovery", ["GET"], "Open311 service discovery")
async def discovery(request: Request, fmt: Format, _: str | None) -> Response:
    s = request.app.state.settings
    return render(fmt, "discovery", mapping.discovery(s.public_base_url, CHANGESET, _zone(request),
                                                      s.open311_contact))


@_resource("/services", ["GET"], "Open311: the services (the complaint taxonomy)")
async def services(request: Request, fmt: Format, _: str | None) -> Response:
    _jurisdiction(request, await _form(request))
    return render(fmt, "services", mapping.services(TAXONOMY))


@_resource("/services", ["GET"], "Open311: a service definition (its extra questions)", named=True)
async def service_definition(request: Request, fmt: Format, code: str | None) -> Response:
    _jurisdiction(request, await _form(request))
    sub = TAXONOMY.subcategory(code or "")
    if sub is None:
        raise Open311Error(404, f"service_code {code!r} is not a service of this jurisdiction")
    return render(fmt, "service_definition", mapping.definition(sub))


@_resource("/requests", ["POST"], "Open311: submit a service request (needs api_key)")
async def post_request(request: Request, fmt: Format, _: str | None) -> Response:
    """An `Idempotency-Key` header (optional, 8 to 255 characters) makes a retry safe: the
    same key and form from the same front end answer the first service request again
    (`Idempotent-Replayed: true`); the same key with another form is a 422."""
    form = await _form(request)
    jurisdiction = _jurisdiction(request, form)
    idempotency_key = _idempotency_key(request)
    state = request.app.state
    async with state.runtime.unit_of_work() as uow:
        key = await _front_end(form, uow)   # a stranger learns nothing, not even what is wrong
        cmd, extra = mapping.submission(form, TAXONOMY, jurisdiction)
        cmd = dataclasses.replace(cmd, frontend=key.name)   # its webhooks hear of it
        try:
            receipt = await handlers.submit_open311(cmd, Open311Request(
                complaint_id=uuid.UUID(int=0), api_key_id=key.id, token=secrets.token_urlsafe(16),
                created_at=state.clock(), attributes=extra.attributes, media_url=extra.media_url,
                address_id=extra.address_id, device_id=extra.device_id,
                account_id=extra.account_id), uow, state.submit_deps, idempotency_key)
        except handlers.IdempotencyKeyReused:
            raise Open311Error(422, "this Idempotency-Key was already used for a different "
                                    "request") from None
    number = receipt.complaint.tracking_number
    answer = {"service_request_id": number, "token": receipt.token,
              "service_notice": f"Pengaduan diterima; nomor lacak {number}.",
              "account_id": extra.account_id}
    return render(fmt, "service_requests", [answer], 201,
                  {"Idempotent-Replayed": "true"} if receipt.replayed else None)


def _idempotency_key(request: Request) -> str | None:
    value = request.headers.get("idempotency-key")
    if value is not None and not 8 <= len(value) <= 255:
        raise Open311Error(400, "Idempotency-Key must be 8 to 255 characters")
    return value


@_resource("/tokens", ["GET"], "Open311: the service request id of a token", named=True)
async def token(request: Request, fmt: Format, value: str | None) -> Response:
    _jurisdiction(request, await _form(request))
    async with request.app.state.runtime.unit_of_work() as uow:
        number = await uow.open311.tracking_number_for_token(value or "") if value else None
    if number is None:
        raise Open311Error(404, "no service request has this token")
    return render(fmt, "service_requests", [{"service_request_id": number, "token": value}])


@_resource("/requests", ["GET"], "Open311: public service requests, with filters")
async def list_requests(request: Request, fmt: Format, _: str | None) -> Response:
    form = await _form(request)
    jurisdiction = _jurisdiction(request, form)
    page = _int(form, "page", 1, 10_000)
    page_size = _int(form, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    ids = tuple(dict.fromkeys(i.strip() for v in form.all("service_request_id")
                              for i in v.split(",") if i.strip()))
    if any(not i or i.strip(_NUMBER) or len(i) > 20 for i in ids):
        raise Open311Error(400, "service_request_id must be tracking numbers, comma-separated")
    if ids:   # the spec: with ids, the other filters are ignored
        query = ComplaintQuery(tracking_numbers=ids[:MAX_PAGE_SIZE], jurisdiction=jurisdiction,
                               public=True, page=1, page_size=MAX_PAGE_SIZE)
    else:
        end = mapping.parse_w3c("end_date", form.get("end_date", 60))
        start = mapping.parse_w3c("start_date", form.get("start_date", 60))
        if start is None and end is None:
            start = _clock(request) - timedelta(days=DEFAULT_DAYS)
        if start is not None and end is not None and start > end:
            raise Open311Error(400, "start_date must not be after end_date")
        query = ComplaintQuery(
            statuses=mapping.statuses_for(v for s in form.all("status") for v in s.split(",")),
            category=form.get("service_code", 120), jurisdiction=jurisdiction,
            submitted_from=start, submitted_to=end + timedelta(microseconds=1) if end else None,
            public=True, page=page, page_size=page_size)
    state = request.app.state
    async with state.runtime.unit_of_work() as uow:
        found = await handlers.list_public(query, uow, state.clock)
        shown = found[:query.page_size]
        ids_ = [c.id for c in shown]
        extras = await uow.open311.requests_for(ids_)
        notes = await uow.open311.latest_history(ids_, mapping.STAFF_NOTES)
    zone = _zone(request)
    body = [mapping.service_request(c, TAXONOMY, zone, note=notes.get(c.id),
                                    media_url=getattr(extras.get(c.id), "media_url", None),
                                    address_id=getattr(extras.get(c.id), "address_id", None))
            for c in shown]
    headers = {}
    if len(found) > query.page_size and not ids:
        rest = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
        query_string = "&".join(f"{k}={v}" for k, v in [*rest, ("page", str(page + 1))])
        headers["Link"] = f'<{request.url.replace(query=query_string)}>; rel="next"'
    return render(fmt, "service_requests", body, headers=headers)


@_resource("/requests", ["GET"], "Open311: one public service request", named=True)
async def get_request(request: Request, fmt: Format, number: str | None) -> Response:
    jurisdiction = _jurisdiction(request, await _form(request))
    if not number or number.strip(_NUMBER) or len(number) > 20:
        raise Open311Error(404, "no public service request has this id")
    async with request.app.state.runtime.unit_of_work() as uow:
        try:
            complaint, _ = await handlers.read_public(number, uow)
        except handlers.NotFound:
            complaint = None
        if complaint is None or complaint.jurisdiction != jurisdiction:
            raise Open311Error(404, "no public service request has this id")
        extra = await uow.open311.request_for(complaint.id)
    return render(fmt, "service_requests", [mapping.service_request(
        complaint, TAXONOMY, _zone(request), note=mapping.latest_staff_note(complaint),
        media_url=extra.media_url if extra else None,
        address_id=extra.address_id if extra else None)])


# ---- mySociety's servicerequestupdates


@_resource("/servicerequestupdates", ["GET"], "Open311 (mySociety): updates since a time")
async def list_updates(request: Request, fmt: Format, _: str | None) -> Response:
    form = await _form(request)
    jurisdiction = _jurisdiction(request, form)
    start = mapping.parse_w3c("start_date", form.get("start_date", 60))
    end = mapping.parse_w3c("end_date", form.get("end_date", 60))
    if start is None:
        start = (end or _clock(request)) - timedelta(days=DEFAULT_DAYS)
    if end is not None and start > end:
        raise Open311Error(400, "start_date must not be after end_date")
    async with request.app.state.runtime.unit_of_work() as uow:
        rows = await uow.open311.history(
            actions=mapping.UPDATE_ACTIONS, start=start,
            end=end + timedelta(microseconds=1) if end else None,
            jurisdiction=jurisdiction, limit=MAX_UPDATES)
    zone = _zone(request)
    return render(fmt, "service_request_updates", [mapping.request_update(r, zone) for r in rows])


@_resource("/servicerequestupdates", ["POST"], "Open311 (mySociety): the reporter's update")
async def post_update(request: Request, fmt: Format, _: str | None) -> Response:
    form = await _form(request)
    _jurisdiction(request, form)
    number = form.get("service_request_id", 20)
    if number is None:
        raise Open311Error(400, "service_request_id is required")
    if number.strip(_NUMBER):
        raise Open311Error(404, "no service request has this id")
    description = form.get("description", mapping.MAX_TEXT)
    media_url = mapping._url("media_url", form.get("media_url", mapping.MAX_URL))
    if media_url:
        description = f"{description or ''}\n\nLampiran: {media_url}".strip()
    wanted = form.get("status", 20)
    state = request.app.state
    try:
        async with state.runtime.unit_of_work() as uow:
            key = await _front_end(form, uow)
            complaint = await uow.complaints.get_by_tracking_number(number)
            if complaint is None:
                raise handlers.NotFound()
            action, fields = mapping.update_action(complaint.status, wanted, description)
            complaint, update_id = await handlers.post_open311_update(
                number, key.id, TakeAction(action, **fields), uow, state.clock)
    except handlers.NotFound:
        raise Open311Error(404, "no service request with this id was submitted with this api_key") from None
    except (TransitionNotAllowed, ActionRefused) as exc:
        raise Open311Error(400, str(exc)) from None
    return render(fmt, "service_request_updates", [{
        "update_id": str(update_id), "service_request_id": complaint.tracking_number,
        "status": mapping.open311_status(complaint.status).upper(),
        "updated_datetime": mapping.w3c(complaint.updated_at, _zone(request))}])

