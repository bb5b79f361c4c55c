"""The local traces file stays bounded: past its cap it becomes `<name>.1` (replacing the one
before) and a new one starts; the two generations kept hold the newest spans, none missing."""

from __future__ import annotations

import json

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from backbone.telemetry import JsonLinesSpanExporter

pytestmark = pytest.mark.unit


def _tracer(exporter: JsonLinesSpanExporter):
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, provider.get_tracer("test")


def _names(path) -> list[str]:
    return [json.loads(line)["name"] for line in path.read_text().splitlines()] if path.exists() else []


def test_the_file_is_rotated_past_its_cap_and_keeps_the_newest_spans(tmp_path):
    path = tmp_path / "traces" / "intake.jsonl"
    provider, tracer = _tracer(JsonLinesSpanExporter(path, "intake", max_bytes=4_000))
    for n in range(60):
        with tracer.start_as_current_span(f"span-{n}", attributes={"n": n}):
            pass
    provider.shutdown()

    old, new = path.with_name("intake.jsonl.1"), path
    assert old.exists(), "the file was never rotated"
    assert path.stat().st_size < 4_000 + 1_000    # one export past the cap at most
    assert old.stat().st_size < 4_000 + 1_000
    kept = _names(old) + _names(new)
    # Only the generation before the last is kept: the spans still there are the newest, in order.
    assert kept == [f"span-{n}" for n in range(60 - len(kept), 60)]
    assert json.loads(new.read_text().splitlines()[0])["resource"]["attributes"]["service.name"] == "intake"


def test_an_existing_file_counts_towards_the_cap(tmp_path):
    path = tmp_path / "sla.jsonl"
    path.write_text("x" * 5_000 + "\n")
    provider, tracer = _tracer(JsonLinesSpanExporter(path, "sla", max_bytes=4_000))
    with tracer.start_as_current_span("first-after-restart"):
        pass
    provider.shutdown()

    assert path.with_name("sla.jsonl.1").read_text() == "x" * 5_000 + "\n"
    assert _names(path) == ["first-after-restart"]


def test_a_file_that_cannot_be_rotated_is_appended_to(tmp_path):
    path = tmp_path / "notify.jsonl"
    blocked = path.with_name("notify.jsonl.1")
    blocked.mkdir()   # a directory where the old generation would go: the rename fails
    (blocked / "keep").write_text("")
    provider, tracer = _tracer(JsonLinesSpanExporter(path, "notify", max_bytes=500))
    for n in range(10):
        with tracer.start_as_current_span(f"span-{n}"):
            pass
    provider.shutdown()

    assert _names(path) == [f"span-{n}" for n in range(10)]
