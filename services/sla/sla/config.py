"""sla's settings, from the environment."""

from pydantic import Field

from backbone.settings import ServiceSettings


class SlaSettings(ServiceSettings):
    service_name: str = "sla"
    http_port: int = 8002
    timezone: str = Field(default="Asia/Jakarta", description="WIB; WITA is Asia/Makassar, WIT Asia/Jayapura")
    first_response_working_days: int = Field(default=5, ge=1)
    reopen_window_working_days: int = Field(
        default=10, ge=1,
        description="Working days after a closing during which the citizen may reopen the "
                    "complaint; the window ends at 23:59:59 local time of the last one")
