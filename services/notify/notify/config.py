"""notify's settings, from the environment."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from backbone.settings import ServiceSettings
from backbone.staff_auth import StaffAuthSettings
from notify.domain.quiet_hours import QuietHours

PhoneTransport = Literal["none", "gateway", "twilio", "topic"]


class NotifySettings(ServiceSettings, StaffAuthSettings):
    service_name: str = "notify"
    http_port: int = 8003
    pii_key: SecretStr = Field(description="Fernet key that encrypts citizens' contacts at rest")

    # ---- e-mail
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout: float = 10.0
    mail_from: str = "LAPOR Kota Contoh <no-reply@lapor.example>"
    smtp_connections: int = Field(default=4, ge=1, description="SMTP connections kept open")

    # ---- SMS and WhatsApp: which transport carries each
    sms_transport: PhoneTransport = Field(
        default="none", description="none, gateway (generic HTTP), twilio, or topic (the "
                                    "outbound channel topic, for an adapter outside)")
    whatsapp_transport: PhoneTransport = "none"
    gateway_url: str | None = Field(default=None, description="The generic gateway's send URL")
    gateway_token: SecretStr | None = None
    gateway_sender: str | None = Field(default=None, description="Sender id or number, if the gateway wants one")
    twilio_base_url: str = "https://api.twilio.com"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_sms_from: str | None = Field(default=None, description="E.164 number or alphanumeric sender id")
    twilio_whatsapp_from: str | None = Field(default=None, description="The WhatsApp sender's E.164 number")
    channel_topic_adapter: str = Field(default="sms-1708", description="The `adapter` named on "
                                       "outbound channel messages (topic transport)")
    http_timeout: float = Field(default=10.0, gt=0, description="Seconds for a gateway or webhook call")
    http_connections: int = Field(default=16, ge=1)

    # ---- wording and links
    templates_dir: Path | None = Field(default=None, description="A city's own templates, "
                                       "searched before the shipped ones")
    status_url: str = Field(default="http://127.0.0.1:8000/v1/public/complaints/{tracking_number}",
                            description="The citizen's status page; {tracking_number} is filled in")
    rating_url: str | None = Field(default=None, description="Where citizens rate; default: status_url")
    console_url: str = Field(default="http://127.0.0.1:8000/v1/complaints/{tracking_number}",
                             description="The staff page of a complaint, linked in staff messages")

    # ---- when
    quiet_hours: str = Field(default="21:00-07:00", description="Local time when SMS and "
                             "WhatsApp messages that can wait are held; empty: never")
    default_timezone: str = "Asia/Jakarta"
    jurisdiction_timezones: dict[str, str] = Field(
        default={"kota-makassar": "Asia/Makassar", "kota-jayapura": "Asia/Jayapura"},
        description="JSON object: jurisdiction -> IANA zone, where not WIB")
    rating_request_delay_seconds: float = Field(default=3600, ge=0)
    receipt_hold_seconds: float = Field(
        default=15, ge=0, description="How long a citizen's receipt waits for the assignment, "
        "so one message says both; 0 sends every receipt at once")
    digest_time: str = Field(default="07:00", description="Local time operators' daily digest goes")

    directory_cache_seconds: float = Field(
        default=5.0, ge=0, description="How soon a staff address or webhook another replica "
                                       "registered is used")

    # ---- dispatching and retries
    dispatch_batch_size: int = Field(default=100, ge=1)
    dispatch_concurrency: int = Field(default=16, ge=1, description="Sends in flight at once")
    dispatch_lease_seconds: float = Field(
        default=60, gt=0, description="A claimed delivery not settled by then is sent again")
    dispatch_poll_interval: float = Field(default=1.0, gt=0)
    email_attempts: int = Field(default=6, ge=1, description="Tries on e-mail before falling back")
    sms_attempts: int = Field(default=4, ge=1)
    whatsapp_attempts: int = Field(default=4, ge=1)
    webhook_attempts: int = Field(default=8, ge=1)
    retry_base_seconds: float = Field(default=5.0, gt=0)
    retry_cap_seconds: float = Field(default=3600.0, gt=0)

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        if value.strip():
            QuietHours.parse(value)
        return value

    @model_validator(mode="after")
    def _transports_complete(self) -> "NotifySettings":
        for channel, kind in (("SMS", self.sms_transport), ("WHATSAPP", self.whatsapp_transport)):
            if kind == "gateway" and not self.gateway_url:
                raise ValueError(f"{channel}_TRANSPORT=gateway needs GATEWAY_URL")
            if kind == "twilio" and not (self.twilio_account_sid and self.twilio_auth_token):
                raise ValueError(f"{channel}_TRANSPORT=twilio needs TWILIO_ACCOUNT_SID and "
                                 "TWILIO_AUTH_TOKEN")
        return self

    def timezone_of(self, jurisdiction: str | None) -> str:
        return self.jurisdiction_timezones.get(jurisdiction or "", self.default_timezone)
