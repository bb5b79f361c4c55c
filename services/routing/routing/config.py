"""routing's settings, from the environment."""

from pydantic import Field

from backbone.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    service_name: str = "routing"
    http_port: int = 8001
    min_confidence: float = Field(default=0.5, ge=0, le=1,
                                  description="Below this, a complaint goes to human triage")
