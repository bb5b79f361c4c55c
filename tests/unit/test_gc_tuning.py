"""The collector settings a service takes once started (backbone.gc_tuning)."""

import gc

import pytest

from backbone.gc_tuning import DEFAULT_THRESHOLDS, parse_thresholds, settle_after_start
from backbone.settings import load_settings
from intake.config import IntakeSettings


def test_thresholds_are_three_positive_numbers_or_nothing():
    assert parse_thresholds(DEFAULT_THRESHOLDS) == (10000, 20, 10)
    assert parse_thresholds(" 700, 10,10 ") == (700, 10, 10)
    assert parse_thresholds("") is None
    for bad in ("700,10", "700,10,10,10", "a,b,c", "0,10,10", "-1,10,10"):
        with pytest.raises(ValueError, match="three positive"):
            parse_thresholds(bad)


def test_settling_freezes_what_start_up_made_and_sets_the_thresholds():
    before = gc.get_threshold()
    survivor = [object() for _ in range(100)]  # alive now: frozen, never walked again
    try:
        frozen = settle_after_start("5000,15,12")
        assert frozen >= len(survivor) and gc.get_freeze_count() == frozen
        assert gc.get_threshold() == (5000, 15, 12)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_settling_without_thresholds_keeps_the_interpreters():
    before = gc.get_threshold()
    try:
        settle_after_start("")
        assert gc.get_threshold() == before and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_bad_thresholds_stop_start_up_naming_the_setting(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/lapor")
    monkeypatch.setenv("PII_KEY", "k")
    monkeypatch.setenv("JWT_PUBLIC_KEY", "unused here")
    monkeypatch.setenv("ATTACHMENTS_DIR", str(tmp_path))
    monkeypatch.setenv("GC_THRESHOLDS", "10000,20")
    with pytest.raises(SystemExit):
        load_settings(IntakeSettings)
    assert "GC_THRESHOLDS: three positive" in capsys.readouterr().err
    monkeypatch.setenv("GC_THRESHOLDS", "")
    assert load_settings(IntakeSettings).gc_thresholds == ""
