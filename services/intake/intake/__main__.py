"""`python -m intake`: run the service until SIGTERM."""

from backbone.runtime import run_service
from intake.app import bootstrap
from intake.config import IntakeSettings

if __name__ == "__main__":
    run_service(IntakeSettings, bootstrap)
