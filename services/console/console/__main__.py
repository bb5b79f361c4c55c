"""`python -m console`: settings, JSON logs, traces, then serve until SIGTERM, as every service."""

from backbone.runtime import run_service
from console.app import create_app
from console.config import ConsoleSettings

if __name__ == "__main__":
    run_service(ConsoleSettings, create_app)
