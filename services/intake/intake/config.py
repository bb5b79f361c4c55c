"""intake's settings, from the environment."""

from pydantic import Field, SecretStr

from backbone.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    http_port: int = 8000
    pii_key: SecretStr = Field(description="Fernet key that encrypts reporters' identity at rest")
    default_jurisdiction: str = "kota-contoh"
    max_body_bytes: int = 64 * 1024
    public_base_url: str = "http://127.0.0.1:8000"
