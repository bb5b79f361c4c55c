"""intake's settings, from the environment."""

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from backbone.settings import ServiceSettings
from backbone.staff_auth import StaffAuthSettings


class IntakeSettings(ServiceSettings, StaffAuthSettings):
    service_name: str = "intake"
    http_port: int = 8000
    pii_key: SecretStr = Field(description="Fernet key that encrypts reporters' identity at rest")
    default_jurisdiction: str = "kota-contoh"
    access_token_secret: SecretStr | None = Field(
        default=None, description="Secret for access tokens of idempotent submissions; "
                                  "derived from PII_KEY when unset")
    idempotency_retention_hours: float = Field(default=24, gt=0,
                                               description="How long a retry with the same key is recognised")
    tracking_number_block: int = Field(
        default=20, ge=1, description="Tracking numbers taken from the sequence at a time")
    retry_after_seconds: int = Field(default=2, ge=1, description="Retry-After when the database is away")
    public_base_url: str = "http://127.0.0.1:8000"
    # Channels (SMS, WhatsApp, social media adapters on Kafka).
    channel_sender_secret_key: SecretStr | None = Field(
        default=None, description="Secret keying the hashes of channel senders; derived from "
                                  "PII_KEY when unset (set it before rotating PII_KEY)")
    channel_dedupe_retention_days: float = Field(
        default=30, gt=0, description="How long an adapter's message id is remembered")
    # Attachments: where the bytes go (a local folder, or S3-compatible object storage) and limits.
    attachments_store: Literal["local", "s3"] = Field(default="local",
                                                      description="local (a folder) or s3")
    attachments_dir: Path | None = Field(default=None, description="The folder, for store local")
    s3_endpoint_url: str | None = Field(default=None, description="e.g. https://s3.ap-southeast-3.amazonaws.com or a MinIO URL")
    s3_bucket: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_path_style: bool = Field(default=True, description="Path-style addressing (MinIO, most S3-compatible servers)")
    s3_key_prefix: str = Field(default="attachments/", description="Prepended to every object key")
    attachment_max_image_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    attachment_max_pdf_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    attachment_max_video_bytes: int = Field(default=30 * 1024 * 1024, ge=1)
    attachment_max_pixels: int = Field(default=40_000_000, ge=1, description="Larger images are refused")
    attachments_per_complaint: int = Field(default=10, ge=1)
    attachment_files_per_request: int = Field(default=5, ge=1)
    upload_body_timeout: float = Field(default=120, gt=0,
                                       description="Seconds to receive a whole multipart upload")
    # Open311 GeoReport v2 (intake/open311).
    open311_jurisdictions: str = Field(
        default="", description="More jurisdiction_id values Open311 accepts, comma-separated, "
                                "besides DEFAULT_JURISDICTION")
    open311_timezone: str = Field(default="Asia/Jakarta",
                                  description="The offset Open311 dates are written in (WIB)")
    open311_contact: str = Field(default="Diskominfo, lapor@kota-contoh.go.id",
                                 description="Who answers for the Open311 endpoint (discovery)")

    @model_validator(mode="after")
    def attachments_storable(self) -> "IntakeSettings":
        if self.attachments_store == "local" and self.attachments_dir is None:
            raise ValueError("set ATTACHMENTS_DIR (a folder for attachments) or "
                             "ATTACHMENTS_STORE=s3 with S3_BUCKET")
        if self.attachments_store == "s3" and not self.s3_bucket:
            raise ValueError("ATTACHMENTS_STORE=s3 needs S3_BUCKET (and S3_ENDPOINT_URL for a "
                             "server other than AWS)")
        return self

    def upload_body_bytes(self) -> int:
        """The body limit of a multipart upload: every file at its largest, plus the form."""
        largest = max(self.attachment_max_image_bytes, self.attachment_max_pdf_bytes,
                      self.attachment_max_video_bytes)
        return self.attachment_files_per_request * largest + self.max_body_bytes

    def open311_jurisdiction_ids(self) -> tuple[str, ...]:
        extra = (j.strip() for j in self.open311_jurisdictions.split(","))
        return tuple(dict.fromkeys([self.default_jurisdiction, *(j for j in extra if j)]))

    def channel_sender_secret(self) -> bytes:
        """Keys the hashes by which intake recognises a channel sender (never kept in clear)."""
        if self.channel_sender_secret_key is not None:
            return self.channel_sender_secret_key.get_secret_value().encode()
        first_key = self.pii_key.get_secret_value().split(",")[0].strip()
        return hashlib.sha256(b"lapor-channel-sender:" + first_key.encode()).digest()

    def token_secret(self) -> bytes:
        if self.access_token_secret is not None:
            return self.access_token_secret.get_secret_value().encode()
        first_key = self.pii_key.get_secret_value().split(",")[0].strip()
        return hashlib.sha256(b"lapor-access-token:" + first_key.encode()).digest()
