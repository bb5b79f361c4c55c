"""routing's settings, from the environment."""

from pydantic import Field

from backbone.settings import ServiceSettings
from backbone.staff_auth import StaffAuthSettings


class RoutingSettings(ServiceSettings, StaffAuthSettings):
    service_name: str = "routing"
    http_port: int = 8001
    min_confidence: float = Field(default=0.5, ge=0, le=1,
                                  description="Below this, a complaint goes to human triage")
    jurisdictions_dir: str | None = Field(
        default=None, description="Folder of the jurisdictions' YAML files; unset: the samples "
                                  "shipped in the package (routing/jurisdictions)")
    jurisdiction_refresh_seconds: float = Field(
        default=5, gt=0, description="How often a replica checks for jurisdiction changes made "
                                     "through another replica")
