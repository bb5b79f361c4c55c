"""One contract for every blob store: the in-memory twin, the local folder (the embedded
default) and S3-compatible object storage on a real server (s3proxy, started by the session's
`s3_server` fixture). Content-addressed: put answers the sha256, the same bytes twice are one
blob, get gives back exactly what was put, a missing address is BlobNotFound."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid

import pytest

from intake.adapters.blobs import BlobNotFound, InMemoryBlobStore, LocalFolderStore, S3Store

pytestmark = pytest.mark.integration


@pytest.fixture(params=["memory", "local", "s3"])
def store(request, tmp_path):
    if request.param == "memory":
        return InMemoryBlobStore()
    if request.param == "local":
        return LocalFolderStore(tmp_path / "blobs")
    server = request.getfixturevalue("s3_server")
    s3 = S3Store(bucket=f"lapor-{uuid.uuid4().hex[:10]}", endpoint_url=server.endpoint_url,
                 region="us-east-1", access_key_id=server.access_key,
                 secret_access_key=server.secret_key, path_style=True)
    s3.ensure_bucket()
    return s3


async def test_put_answers_the_sha256_and_get_returns_the_same_bytes(store):
    data = os.urandom(300_000) + b"\x00\xff"
    address = await store.put(data, "image/jpeg")
    assert address == hashlib.sha256(data).hexdigest()
    assert await store.exists(address)
    assert await store.get(address) == data


async def test_the_same_bytes_are_one_blob_and_a_re_upload_changes_nothing(store):
    data = b"%PDF-1.4 the same file twice"
    first, second = await asyncio.gather(store.put(data, "application/pdf"),
                                         store.put(data, "application/pdf"))
    assert first == second
    assert await store.get(first) == data


async def test_a_missing_blob_is_not_found(store):
    missing = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    assert not await store.exists(missing)
    with pytest.raises(BlobNotFound):
        await store.get(missing)


async def test_an_address_that_is_not_a_sha256_is_refused_before_any_io(store):
    for bad in ("../../etc/passwd", "ABC", "a" * 63, "g" * 64):
        with pytest.raises(ValueError):
            await store.get(bad)


async def test_the_local_folder_shards_by_prefix_and_leaves_no_temporary_files(tmp_path):
    store = LocalFolderStore(tmp_path)
    address = await store.put(b"photo", "image/jpeg")
    assert (tmp_path / address[:2] / address[2:4] / address).read_bytes() == b"photo"
    assert [p.name for p in tmp_path.rglob(".tmp-*")] == []
