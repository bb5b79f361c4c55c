"""`python -m sla`: run the service until SIGTERM."""

from backbone.runtime import run_service
from sla.app import bootstrap
from sla.config import SlaSettings

if __name__ == "__main__":
    run_service(SlaSettings, bootstrap)
