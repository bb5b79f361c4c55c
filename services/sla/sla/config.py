"""sla's settings, from the environment."""

from pydantic import Field

from backbone.settings import ServiceSettings


class SlaSettings(ServiceSettings):
    service_name: str = "sla"
    http_port: int = 8002
    timezone: str = Field(default="Asia/Jakarta", description="WIB; WITA is Asia/Makassar, WIT Asia/Jayapura")
    first_response_working_days: int = Field(default=5, ge=1)
