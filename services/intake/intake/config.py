"""intake's settings, from the environment."""

import hashlib

from pydantic import Field, SecretStr

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

    def token_secret(self) -> bytes:
        if self.access_token_secret is not None:
            return self.access_token_secret.get_secret_value().encode()
        first_key = self.pii_key.get_secret_value().split(",")[0].strip()
        return hashlib.sha256(b"lapor-access-token:" + first_key.encode()).digest()
