"""`python -m console`: settings, JSON logs, traces, then serve until SIGTERM."""

from backbone.runtime import serve
from backbone.settings import load_settings
from backbone.telemetry import setup_logging, setup_tracing, shutdown_tracing
from console.app import create_app
from console.config import ConsoleSettings


def main() -> None:
    settings = load_settings(ConsoleSettings)
    setup_logging(settings.service_name, settings.log_level)
    setup_tracing(settings.service_name, settings.traces_file, settings.otel_exporter_otlp_endpoint)
    try:
        serve(create_app(settings), settings)
    finally:
        shutdown_tracing()


if __name__ == "__main__":
    main()
