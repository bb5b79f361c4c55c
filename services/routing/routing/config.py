"""routing's settings, from the environment."""

from pathlib import Path

from pydantic import Field

from backbone.settings import ServiceSettings
from backbone.staff_auth import StaffAuthSettings


class RoutingSettings(ServiceSettings, StaffAuthSettings):
    service_name: str = "routing"
    http_port: int = 8001
    min_confidence: float = Field(
        default=0.72, ge=0, le=1,
        description="At or above this calibrated confidence routing acts alone; below, an "
                    "operator decides in triage (`make eval` recommends one: 0.72 gives 0.955 "
                    "precision with 86% coverage on the held-out split)")
    model_path: Path | None = Field(
        default=None, description="The classifier built by `make model`; unset: the one in the "
                                  "package (routing/model/classifier.joblib)")
    jurisdictions_dir: str | None = Field(
        default=None, description="Folder of the jurisdictions' YAML files; unset: the samples "
                                  "shipped in the package (routing/jurisdictions)")
    jurisdiction_refresh_seconds: float = Field(
        default=5, gt=0, description="How often a replica checks for jurisdiction changes made "
                                     "through another replica")
