"""notify's settings, from the environment."""

from pydantic import Field, SecretStr

from backbone.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
    http_port: int = 8003
    pii_key: SecretStr = Field(description="Fernet key that encrypts citizens' contacts at rest")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout: float = 10.0
    mail_from: str = "LAPOR Kota Contoh <no-reply@lapor.example>"
    smtp_connections: int = Field(default=4, ge=1, description="SMTP connections kept open")
    dispatch_batch_size: int = Field(default=100, ge=1)
    dispatch_lease_seconds: float = Field(
        default=60, gt=0, description="A claimed delivery not settled by then is sent again")
    dispatch_poll_interval: float = Field(default=1.0, gt=0)
    dispatch_max_attempts: int = Field(default=8, ge=1)
