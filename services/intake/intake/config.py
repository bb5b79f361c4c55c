"""intake's settings, from the environment."""

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from backbone.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    http_port: int = 8000
    pii_key: SecretStr = Field(description="Fernet key that encrypts reporters' identity at rest")
    default_jurisdiction: str = "kota-contoh"
    access_token_secret: SecretStr | None = Field(
        default=None, description="Secret for access tokens of idempotent submissions; "
                                  "derived from PII_KEY when unset")
    idempotency_retention_hours: float = Field(default=24, gt=0,
                                               description="How long a retry with the same key is recognised")
    retry_after_seconds: int = Field(default=2, ge=1, description="Retry-After when the database is away")
    public_base_url: str = "http://127.0.0.1:8000"
    # Staff tokens (OPD staff, operators): standard JWTs from the city's identity provider.
    jwt_public_key: str | None = Field(default=None, description="PEM public key that signs staff tokens")
    jwt_jwks_url: str | None = Field(default=None, description="Or the issuer's JWKS URL (Keycloak, any OIDC)")
    jwt_audience: str = Field(default="lapor", description="The `aud` staff tokens must carry")
    jwt_issuer: str | None = Field(default=None, description="The `iss` they must carry, when set")
    jwt_algorithms: str = Field(default="RS256,ES256,EdDSA", description="Accepted, comma-separated")
    jwt_role_claim: str = Field(default="role", description="Claim (dotted path) holding operator or opd")
    jwt_opd_claim: str = Field(default="opd", description="Claim holding an OPD member's OPD id")
    jwt_jurisdiction_claim: str = Field(default="jurisdiction",
                                        description="Optional claim limiting an operator to one jurisdiction")
    jwt_leeway_seconds: float = Field(default=30, ge=0, description="Clock skew tolerated on exp")
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

    @model_validator(mode="after")
    def staff_tokens_verifiable(self) -> "IntakeSettings":
        if not self.jwt_public_key and not self.jwt_jwks_url:
            raise ValueError("set JWT_PUBLIC_KEY (a PEM public key) or JWT_JWKS_URL so staff "
                             "tokens can be verified (`make run` makes a development key)")
        return self

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
