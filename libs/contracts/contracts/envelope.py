"""CloudEvents 1.0 in Kafka binary mode: attributes as `ce_*` headers, the event as JSON body,
the complaint id as record key (so one complaint's events stay in order on one partition).

The `cloudevents` SDK does the binding; this module only maps our pydantic events onto it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic import ValidationError

from contracts.events import EVENT_TYPES, Event

_FORMAT = JSONFormat()
TRACE_HEADERS = ("traceparent", "tracestate")


class EnvelopeError(ValueError):
    """A record that is not a CloudEvent we understand. Retrying cannot help."""


@dataclass(frozen=True)
class Envelope:
    """One event with its CloudEvents attributes, ready for (or read from) Kafka."""

    event: Event
    id: str
    source: str
    time: datetime
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.event.event_type

    @property
    def key(self) -> str:
        return self.event.partition_key


def wrap(event: Event, source: str, event_id: str | None = None) -> Envelope:
    """A new envelope for an event a service has just recorded."""
    return Envelope(
        event=event,
        id=event_id or str(uuid.uuid4()),
        source=source,
        time=datetime.now(timezone.utc),
    )


def to_record(envelope: Envelope) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) for a Kafka producer."""
    cloud_event = CloudEvent(
        attributes={
            "id": envelope.id,
            "source": envelope.source,
            "type": envelope.type,
            "specversion": "1.0",
            "time": envelope.time,
            "subject": envelope.key,
            "datacontenttype": "application/json",
            "partitionkey": envelope.key,
        },
        data=envelope.event.model_dump(mode="json"),
    )
    message = ce_kafka.to_binary(cloud_event, _FORMAT)
    headers = list(message.headers.items())
    headers += [(name, value.encode()) for name, value in envelope.extra_headers.items()]
    key = message.key.encode() if isinstance(message.key, str) else message.key
    return key, message.value, headers


def from_record(
    key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]] | dict
) -> Envelope:
    """Parse and validate a consumed record; EnvelopeError says why it is unusable."""
    pairs = headers.items() if isinstance(headers, dict) else headers
    raw = {name: (val if isinstance(val, bytes) else str(val).encode()) for name, val in pairs}
    ce_headers = {n: v for n, v in raw.items() if n.startswith("ce_") or n == "content-type"}
    if "ce_type" not in ce_headers or "ce_id" not in ce_headers:
        raise EnvelopeError("not a CloudEvent in binary mode: ce_type or ce_id header missing")
    try:
        cloud_event = ce_kafka.from_binary(
            ce_kafka.KafkaMessage(headers=ce_headers, key=key, value=value or b""), _FORMAT
        )
    except Exception as exc:  # the SDK raises several types for malformed input
        raise EnvelopeError(f"malformed CloudEvent: {exc}") from exc
    attributes = cloud_event.get_attributes()
    model = EVENT_TYPES.get(attributes["type"])
    if model is None:
        raise EnvelopeError(f"unknown event type {attributes['type']!r}")
    data = cloud_event.get_data()
    if not isinstance(data, dict):
        raise EnvelopeError("malformed CloudEvent: the body is not a JSON object")
    try:
        event = model.model_validate(data)
    except ValidationError as exc:
        # Field locations and messages only: the input may hold personal data, never echo it.
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(body)'}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        )
        raise EnvelopeError(f"invalid {attributes['type']} payload: {problems}") from None
    extra = {
        name: raw[name].decode("utf-8", "replace") for name in TRACE_HEADERS if name in raw
    }
    return Envelope(
        event=event,
        id=attributes["id"],
        source=attributes["source"],
        time=attributes.get("time") or datetime.now(timezone.utc),
        extra_headers=extra,
    )
