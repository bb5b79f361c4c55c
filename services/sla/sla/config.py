"""sla's settings, from the environment."""

from pathlib import Path

from pydantic import Field

from backbone.settings import ServiceSettings
from backbone.staff_auth import StaffAuthSettings


class SlaSettings(ServiceSettings, StaffAuthSettings):
    service_name: str = "sla"
    http_port: int = 8002
    timezone: str = Field(default="Asia/Jakarta",
                          description="The national default calendar's zone (WIB), for a "
                                      "jurisdiction without a calendar of its own")
    policies_dir: Path | None = Field(
        default=None, description="Folder of policy files (_default.yaml and <jurisdiction>.yaml);"
                                  " unset: the ones shipped in the package")
    calendars_dir: Path | None = Field(
        default=None, description="Folder of calendar files (<jurisdiction>.yaml); unset: the "
                                  "ones shipped in the package")
    config_refresh_seconds: float = Field(
        default=5.0, gt=0, description="How often a replica looks for calendar and policy "
                                       "changes made through another replica")
    verification_quiet_seconds: float = Field(
        default=15.0, ge=0, le=3600,
        description="How long after a submission the verification clock's start waits to be "
                    "told: a complaint routed by then never hears of it (0: told at once)")
    fire_batch_size: int = Field(default=500, ge=1, le=10000)
    fire_poll_interval: float = Field(
        default=0.25, gt=0, le=5,
        description="How often the firing loop looks for due clocks (it fires within about this)")
    alerts_poll_interval: float = Field(
        default=0.5, gt=0, le=5, description="How often the live alert stream looks for alerts "
                                             "fired by other replicas")
