"""The larger allowance for file uploads: only multipart/form-data to the named routes gets it,
still counted as the bytes stream in; JSON on the same route keeps the ordinary limit."""

from __future__ import annotations

import json

import pytest

from backbone.http_limits import BodyLimits, UploadRoute
from tests.unit.test_http_limits import App, Client

pytestmark = pytest.mark.unit
LIMIT, UPLOAD = 1000, 10_000
ROUTES = [UploadRoute("POST", r"/v1/complaints", UPLOAD, 1.0),
          UploadRoute("POST", r"/v1/complaints/[0-9]{1,20}/attachments", UPLOAD, 1.0)]
MULTIPART = "multipart/form-data; boundary=xyz"


def request(path: str, content_type: str, chunks: list[bytes], method: str = "POST") -> Client:
    client = Client(chunks, headers={"content-type": content_type, "transfer-encoding": "chunked"})
    client.scope.update(path=path, method=method)
    return client


async def run(client: Client) -> App:
    app = App()
    await BodyLimits(app, max_body_bytes=LIMIT, body_timeout=0.3, chunk_timeout=0.2,
                     linger_seconds=0.2, uploads=ROUTES)(client.scope, client.receive, client.send)
    return app


@pytest.mark.parametrize("path", ["/v1/complaints", "/v1/complaints/1000001/attachments"])
async def test_a_multipart_upload_to_an_upload_route_may_pass_the_ordinary_limit(path):
    client = request(path, MULTIPART, [b"x" * 1000] * 8)
    app = await run(client)
    assert client.status == 200 and app.seen == 8000


async def test_the_upload_limit_is_still_counted_as_the_bytes_stream_in():
    client = request("/v1/complaints", MULTIPART, [b"x" * 1000] * 12)
    app = await run(client)
    assert client.status == 413 and app.seen <= UPLOAD
    assert f"{UPLOAD} bytes" in json.loads(client.body)["detail"]


@pytest.mark.parametrize("path, content_type, method", [
    ("/v1/complaints", "application/json", "POST"),          # JSON never borrows the allowance
    ("/v1/complaints/1000001/actions", MULTIPART, "POST"),     # not an upload route
    ("/v1/complaints/1000001/attachments/x", MULTIPART, "POST"),
    ("/v1/complaints", MULTIPART, "PUT"),
])
async def test_other_bodies_keep_the_ordinary_limit(path, content_type, method):
    client = request(path, content_type, [b"x" * 600] * 3, method)
    await run(client)
    assert client.status == 413
    assert f"{LIMIT} bytes" in json.loads(client.body)["detail"]


async def test_a_declared_upload_over_its_limit_is_refused_unread():
    client = Client([b"x"], headers={"content-type": MULTIPART, "content-length": str(UPLOAD + 1)})
    client.scope.update(path="/v1/complaints")
    app = await run(client)
    assert client.status == 413 and not app.called
