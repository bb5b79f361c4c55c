"""`python -m routing`: run the service until SIGTERM."""

from backbone.runtime import run_service
from routing.app import bootstrap
from routing.config import RoutingSettings

if __name__ == "__main__":
    run_service(RoutingSettings, bootstrap)
