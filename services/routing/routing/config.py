"""routing's settings, from the environment."""

from pathlib import Path

from pydantic import Field

from backbone.settings import ServiceSettings
from backbone.staff_auth import StaffAuthSettings


class RoutingSettings(ServiceSettings, StaffAuthSettings):
    service_name: str = "routing"
    http_port: int = 8001
    min_confidence: float = Field(
        default=0.79, ge=0, le=1,
        description="At or above this calibrated confidence routing acts alone; below, an "
                    "operator decides in triage (`make eval` recommends one: 0.79 gives 0.950 "
                    "precision with 84% coverage on the held-out split)")
    model_path: Path | None = Field(
        default=None, description="The classifier built by `make model`; unset: the one in the "
                                  "package (routing/model/classifier.joblib)")
    jurisdictions_dir: str | None = Field(
        default=None, description="Folder of the jurisdictions' YAML files; unset: the samples "
                                  "shipped in the package (routing/jurisdictions)")
    jurisdiction_refresh_seconds: float = Field(
        default=5, gt=0, description="How often a replica checks for jurisdiction changes made "
                                     "through another replica")
    # Duplicate candidates (routing/domain/duplicates.py).
    duplicate_jaccard: float = Field(
        default=0.5, gt=0, le=1,
        description="Estimated Jaccard similarity of the texts at or above which two complaints "
                    "of the same category and place are duplicate candidates; 0.15 more is "
                    "needed when a category is unknown, and again when the place cannot be "
                    "compared")
    duplicate_radius_m: float = Field(
        default=300, gt=0, description="Two located complaints at most this far apart are at "
                                       "the same place")
    duplicate_window_days: float = Field(
        default=7, gt=0, description="Complaints submitted at most this many days apart are "
                                     "compared; older signatures are purged")
    duplicate_max_compared: int = Field(
        default=100, gt=0, description="At most this many earlier complaints are compared with "
                                       "a new one: those sharing the most LSH bands with it, "
                                       "then the newest. Bounds the work per complaint when "
                                       "many copies of one text arrive")
    duplicate_max_candidates: int = Field(
        default=5, gt=0, description="At most this many pairs are kept and told per new "
                                     "complaint: the most similar earlier ones")
