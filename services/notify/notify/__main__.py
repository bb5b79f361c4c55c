"""`python -m notify`: run the service until SIGTERM."""

from backbone.runtime import run_service
from notify.app import bootstrap
from notify.config import NotifySettings

if __name__ == "__main__":
    run_service(NotifySettings, bootstrap)
