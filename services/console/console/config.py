"""The console's settings, from the environment: where the services are, how staff tokens are
verified (the same settings every service has), and how people sign in.

Sign-in has two modes. With `DEV_SIGNIN_KEY_FILE` (what `make run` sets) a sign-in page issues a
token for a role and OPD, signed with the development key the services trust. With
`TOKEN_HEADER` the console sits behind the city's OIDC proxy (oauth2-proxy, Keycloak
Gatekeeper, ...), which signs people in and forwards their access token in that header; the
console verifies it like any service and passes it on. Neither set: start-up stops.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AnyHttpUrl, Field, model_validator
from pydantic_settings import SettingsConfigDict

from backbone.settings import TelemetrySettings
from backbone.staff_auth import StaffAuthSettings


class ConsoleSettings(TelemetrySettings, StaffAuthSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: str = "console"
    http_port: int = 8004

    intake_url: AnyHttpUrl = Field(description="intake's base URL, e.g. http://intake:8000")
    routing_url: AnyHttpUrl = Field(description="routing's base URL")
    sla_url: AnyHttpUrl = Field(description="sla's base URL")
    notify_url: AnyHttpUrl = Field(description="notify's base URL")
    upstream_timeout: float = Field(default=10.0, gt=0, description="Seconds for one API call")

    session_secret: str = Field(min_length=32, description="Random secret (32+ characters) "
                                "that keys the forms' CSRF tokens")
    cookie_secure: bool = Field(default=False, description="Send the session cookie over HTTPS only")
    session_hours: float = Field(default=8, gt=0, le=24, description="Dev sign-in token lifetime")
    dev_signin_key_file: Path | None = Field(
        default=None, description="PEM private key for the dev sign-in page (never in production)")
    token_header: str | None = Field(
        default=None, description="Header in which the city's OIDC proxy forwards the user's "
                                  "access token (e.g. X-Forwarded-Access-Token)")
    signout_url: str | None = Field(default=None, description="Where sign-out sends people "
                                                              "behind an OIDC proxy")
    default_jurisdiction: str = Field(default="kota-bandung", pattern=r"^[a-z0-9-]+$",
                                      description="For staff whose token names none")
    page_size: int = Field(default=25, ge=5, le=100)

    @model_validator(mode="after")
    def one_way_to_sign_in(self) -> "ConsoleSettings":
        if self.dev_signin_key_file is None and not self.token_header:
            raise ValueError("set DEV_SIGNIN_KEY_FILE (the dev sign-in page) or TOKEN_HEADER "
                             "(behind the city's OIDC proxy) so people can sign in")
        if self.dev_signin_key_file is not None and not self.dev_signin_key_file.is_file():
            raise ValueError(f"DEV_SIGNIN_KEY_FILE {self.dev_signin_key_file} is not a file")
        return self

    def url(self, service: str) -> str:
        return str(getattr(self, f"{service}_url")).rstrip("/")
