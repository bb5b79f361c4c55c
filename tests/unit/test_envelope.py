import json
import uuid
from datetime import datetime, timezone

import pytest

from contracts.envelope import EnvelopeError, from_record, to_record, wrap
from contracts.events import CitizenContactProvidedV2, ComplaintSubmittedV1, Location


def submitted(**overrides):
    fields = dict(complaint_id=uuid.uuid4(), occurred_at=datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc),
                  tracking_number="1000001", jurisdiction="kota-contoh", channel="web",
                  title="Sampah menumpuk", description="Sampah di TPS belum diangkut seminggu.",
                  location=Location(kecamatan="Coblong"))
    return ComplaintSubmittedV1(**(fields | overrides))


def test_round_trip_keeps_event_and_attributes():
    envelope = wrap(submitted(), "/intake")
    key, value, headers = to_record(envelope)
    back = from_record(key, value, headers)
    assert back.event == envelope.event
    assert (back.id, back.source, back.type) == (envelope.id, "/intake", envelope.type)


def test_binary_mode_headers_key_and_json_body():
    event = submitted()
    key, value, headers = to_record(wrap(event, "/intake", event_id="e-1"))
    names = dict(headers)
    assert key == str(event.complaint_id).encode()
    assert names["ce_id"] == b"e-1"
    assert names["ce_specversion"] == b"1.0"
    assert names["ce_type"] == b"id.lapor.ComplaintSubmitted.v1"
    assert names["ce_subject"] == str(event.complaint_id).encode()
    assert names["content-type"] == b"application/json"
    assert "ce_time" in names and "ce_source" in names
    assert json.loads(value)["tracking_number"] == "1000001"


def test_trace_headers_are_carried():
    key, value, headers = to_record(wrap(submitted(), "/intake"))
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    back = from_record(key, value, headers + [("traceparent", parent.encode())])
    assert back.extra_headers["traceparent"] == parent


@pytest.mark.parametrize("headers, value, why", [
    ([], b"{}", "ce_type or ce_id header missing"),
    ([("ce_id", b"1"), ("ce_type", b"id.lapor.Nope.v1"), ("ce_source", b"/x"),
      ("ce_specversion", b"1.0"), ("content-type", b"application/json")], b"{}", "unknown event type"),
    ([("ce_id", b"1"), ("ce_type", b"id.lapor.ComplaintSubmitted.v1"), ("ce_source", b"/x"),
      ("ce_specversion", b"1.0"), ("content-type", b"application/json")], b"{not json", "malformed"),
])
def test_unusable_records_raise_envelope_error(headers, value, why):
    with pytest.raises(EnvelopeError, match=why):
        from_record(b"k", value, headers)


def test_invalid_payload_error_never_echoes_personal_data():
    event = CitizenContactProvidedV2(complaint_id=uuid.uuid4(), occurred_at=datetime.now(timezone.utc),
                                     tracking_number="1", sealed_contact="gAAAA-sealed")
    key, value, headers = to_record(wrap(event, "/intake"))
    broken = json.loads(value) | {"has_email": "siti@example.id", "complaint_id": "x"}
    with pytest.raises(EnvelopeError) as info:
        from_record(key, json.dumps(broken).encode(), headers)
    assert "siti" not in str(info.value)
    assert "has_email" in str(info.value)
