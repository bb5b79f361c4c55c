"""Where attachment bytes live: a content-addressed `BlobStore` (the address is the SHA-256 of
the bytes), in memory for unit tests, in a local folder (the embedded default) or in any
S3-compatible object store (AWS S3, MinIO, Ceph RGW, Garage, s3proxy).

Content addressing makes a store simple and safe: a re-upload of the same photo costs nothing,
a blob is never overwritten with other bytes, and a blob written before its database row
commits (see `handlers.attach`) is at worst an orphan, never a wrong file. Orphans (a request
that failed after `put`) are swept by listing blobs whose address no `attachments` row names
and that are older than a day; nothing does that automatically yet.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

_ADDRESS = re.compile(r"^[0-9a-f]{64}$")


class BlobNotFound(Exception):
    """No blob at this address."""


def address_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checked(address: str) -> str:
    if not _ADDRESS.match(address):
        raise ValueError("a blob address is 64 lower-case hex digits")
    return address


class BlobStore(Protocol):
    async def put(self, data: bytes, content_type: str) -> str:
        """Store `data`; return its address (sha256 hex). Idempotent."""
    async def get(self, address: str) -> bytes:
        """The bytes at `address`, or BlobNotFound."""
    async def exists(self, address: str) -> bool: ...


class InMemoryBlobStore:
    """Twin for unit tests."""

    def __init__(self) -> None:
        self.blobs: dict[str, tuple[bytes, str]] = {}

    async def put(self, data: bytes, content_type: str) -> str:
        address = address_of(data)
        self.blobs.setdefault(address, (bytes(data), content_type))
        return address

    async def get(self, address: str) -> bytes:
        try:
            return self.blobs[_checked(address)][0]
        except KeyError:
            raise BlobNotFound(address) from None

    async def exists(self, address: str) -> bool:
        return _checked(address) in self.blobs


class LocalFolderStore:
    """Files under `root/ab/cd/<address>` (two levels of hash prefix keep folders small).
    Written to a temporary file in the same folder, fsynced, then renamed into place, so a
    reader never sees half a blob and a crash leaves at most a temporary file behind."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, address: str) -> Path:
        address = _checked(address)
        return self.root / address[:2] / address[2:4] / address

    async def put(self, data: bytes, content_type: str) -> str:
        address = address_of(data)
        await asyncio.to_thread(self._write, address, data)
        return address

    def _write(self, address: str, data: bytes) -> None:
        path = self._path(address)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def get(self, address: str) -> bytes:
        path = self._path(address)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise BlobNotFound(address) from None

    async def exists(self, address: str) -> bool:
        return await asyncio.to_thread(self._path(address).is_file)


class S3Store:
    """An S3-compatible bucket through boto3 (blocking, so each call runs in a thread). Keys are
    `<prefix>ab/<address>`. Flexible checksums are sent only when the operation requires them:
    many S3-compatible servers refuse the newer CRC headers boto3 sends by default; Content-MD5
    still guards every upload against corruption in transit."""

    def __init__(self, *, bucket: str, endpoint_url: str | None = None,
                 region: str | None = None, access_key_id: str | None = None,
                 secret_access_key: str | None = None, path_style: bool = True,
                 prefix: str = "attachments/", timeout: float = 20.0) -> None:
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix
        self._client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
            config=Config(s3={"addressing_style": "path" if path_style else "auto"},
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required",
                          connect_timeout=timeout, read_timeout=timeout,
                          retries={"max_attempts": 3, "mode": "standard"}))

    def _key(self, address: str) -> str:
        address = _checked(address)
        return f"{self.prefix}{address[:2]}/{address}"

    async def put(self, data: bytes, content_type: str) -> str:
        address = address_of(data)
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()  # noqa: S324 - transport check
        await asyncio.to_thread(self._client.put_object, Bucket=self.bucket,
                                Key=self._key(address), Body=data, ContentType=content_type,
                                ContentMD5=md5)
        return address

    async def get(self, address: str) -> bytes:
        def read() -> bytes:
            try:
                answer = self._client.get_object(Bucket=self.bucket, Key=self._key(address))
            except self._client.exceptions.NoSuchKey:
                raise BlobNotFound(address) from None
            return answer["Body"].read()
        return await asyncio.to_thread(read)

    async def exists(self, address: str) -> bool:
        from botocore.exceptions import ClientError

        def head() -> bool:
            try:
                self._client.head_object(Bucket=self.bucket, Key=self._key(address))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return False
                raise
            return True
        return await asyncio.to_thread(head)

    def ensure_bucket(self) -> None:
        """For development and tests: create the bucket when it is missing."""
        from botocore.exceptions import ClientError

        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self._client.create_bucket(Bucket=self.bucket)


def build_blob_store(settings) -> BlobStore:
    """The store the settings name (`IntakeSettings.attachments_store`)."""
    if settings.attachments_store == "s3":
        secret = settings.s3_secret_access_key
        return S3Store(bucket=settings.s3_bucket, endpoint_url=settings.s3_endpoint_url,
                       region=settings.s3_region, access_key_id=settings.s3_access_key_id,
                       secret_access_key=secret.get_secret_value() if secret else None,
                       path_style=settings.s3_path_style, prefix=settings.s3_key_prefix)
    return LocalFolderStore(settings.attachments_dir)
