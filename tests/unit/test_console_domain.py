"""The console's pure parts: the OPD queue's working order, the dashboard's bar geometry, the
action forms turned into intake's bodies, and the two languages holding the same words."""

from datetime import datetime, timedelta, timezone

import pytest

from console.domain import action_forms, charts, i18n, queue

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def item(number: str, due_hours: float | None, overdue: bool = False, age_hours: float = 10) -> dict:
    return {"tracking_number": number, "overdue": overdue,
            "due_at": (NOW + timedelta(hours=due_hours)).isoformat() if due_hours is not None else None,
            "submitted_at": (NOW - timedelta(hours=age_hours)).isoformat()}


def test_the_queue_puts_overdue_then_at_risk_then_by_deadline():
    items = [item("1", 48), item("2", None, age_hours=50), item("3", -5, overdue=True),
             item("4", 100), item("5", -30, overdue=True), item("6", 2), item("7", None, age_hours=5)]
    ordered = queue.ordered(items, at_risk={"4"}, now=NOW)
    assert [i["tracking_number"] for i in ordered] == ["5", "3", "4", "6", "1", "2", "7"]
    assert [i["urgency"] for i in ordered] == ["overdue", "overdue", "at_risk", "on_track",
                                               "on_track", "no_deadline", "no_deadline"]


def test_a_deadline_passed_since_intake_answered_is_overdue_too():
    assert queue.urgency(item("1", -1, overdue=False), set(), NOW) == "overdue"


def test_bars_scale_to_the_largest_or_to_the_measures_own_top():
    rows = [{"opd_id": "dinas-pupr", "received": 40, "on_time_share": 0.5, "rating_average": 4.5},
            {"opd_id": "dlh", "received": 10, "on_time_share": None, "rating_average": None}]
    received = charts.chart("received", rows, {"dinas-pupr": "Dinas PUPR"})
    assert [(b.label, b.width, b.text) for b in received.bars] == [
        ("Dinas PUPR", charts.BAR_WIDTH, "40"), ("dlh", charts.BAR_WIDTH / 4, "10")]
    share = charts.chart("on_time_share", rows, {})
    assert [(b.width, b.text) for b in share.bars] == [(charts.BAR_WIDTH / 2, "50%"), (0, "–")]
    rating = charts.chart("rating_average", rows, {})
    assert rating.bars[0].width == pytest.approx(charts.BAR_WIDTH * 0.9)
    assert rating.height == 2 * charts.ROW_HEIGHT and rating.bars[1].y == charts.ROW_HEIGHT
    assert charts.chart("received", [], {}).height == charts.ROW_HEIGHT   # still drawable


def test_forms_follow_what_intake_allows_in_the_consoles_order():
    keys = [f.key for f in action_forms.forms_for(["resolve", "respond", "accept", "reject_not_authority"])]
    assert keys == ["accept", "respond", "ask_info", "resolve", "reject_not_authority"]
    assert action_forms.forms_for([]) == []


def test_a_form_becomes_intakes_body_without_empty_optional_fields():
    names = {"dinas-pupr": "Dinas PUPR"}
    assert action_forms.body_of("assign", {"opd_id": "dinas-pupr", "note": " "}, names) == {
        "action": "assign", "opd_id": "dinas-pupr", "opd_name": "Dinas PUPR"}
    assert action_forms.body_of("ask_info", {"note": "Di RT berapa?"}, names) == {
        "action": "respond", "note": "Di RT berapa?"}
    assert action_forms.body_of("reject_not_authority", {"reason": "Jalan nasional"}, names) == {
        "action": "reject_not_authority", "reason": "Jalan nasional"}
    with pytest.raises(action_forms.BadForm, match="evidence"):
        action_forms.body_of("resolve", {"evidence": "  "}, names)
    with pytest.raises(action_forms.BadForm):
        action_forms.body_of("delete_everything", {}, names)


def test_both_languages_have_every_word_and_every_form_and_status_has_a_label():
    assert set(i18n.MESSAGES["id"]) == set(i18n.MESSAGES["en"])
    words = i18n.MESSAGES["id"]
    for form in action_forms.FORMS:
        assert f"action.{form.key}" in words
        assert all(f"form.{f.name}" in words for f in form.fields)
    from contracts.lifecycle import Status
    assert all(f"status.{s.value}" in words for s in Status)
    assert all(f"archive.{r}" in words for r in action_forms.ARCHIVE_REASONS)
    assert all(f"measure.{m}" in words for m in charts.MEASURES)


def test_times_are_written_in_the_jurisdictions_zone_and_language():
    assert i18n.Words("id", "Asia/Makassar").when("2026-11-23T02:00:00+00:00") == "23 Nov 2026 10.00 WITA"
    assert i18n.Words("en", "Asia/Jayapura").when(NOW, with_zone=False) == "23 Nov 2026 12:00"
    assert i18n.Words("xx").lang == "id" and i18n.Words("id")("no.such.key") == "no.such.key"
    assert i18n.Words("id").number(3.456) == "3,5" and i18n.Words("en").number(None) == "–"
