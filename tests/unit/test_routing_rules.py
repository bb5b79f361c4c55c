"""routing's pure logic: the keyword classifier, what it excludes, and deciding again."""

import uuid

import pytest

from routing.domain.complaint_text import RoutedComplaint
from routing.domain.rerouting import NO_TEXT, ONLY_ADDED, decide
from routing.domain.rules import OPD_RULES, classify, normalise

# Matches four OPDs: dinas-pupr (4 keywords), dlh (2), satpol-pp (1), dishub (1).
BUSY_TITLE = "Jalan berlubang"
BUSY_TEXT = "Jalan berlubang dekat jembatan, aspal rusak; sampah menumpuk di TPS; PKL dan angkot ngetem."


@pytest.mark.parametrize("title, description, opd", [
    ("Jalan berlubang di Jl. Merdeka", "Mohon diperbaiki, sdh 2 minggu membahayakan pengendara.", "dinas-pupr"),
    ("Sampah menumpuk", "Sampah di TPS Cibeunying tdk diangkut seminggu, bau sekali.", "dlh"),
    ("KTP belum jadi", "Sy sudah rekam e-KTP 3 bulan lalu tapi KTP blm dicetak.", "disdukcapil"),
    ("Parkir liar", "Banyak parkir liar di depan pasar yang bikin macet setiap sore.", "dishub"),
    ("Pelayanan puskesmas", "Antrian di puskesmas sangat lama dan dokter datang terlambat.", "dinkes"),
])
def test_clear_complaints_are_assigned(title, description, opd):
    decision = classify(title, description)
    assert decision.opd_id == opd
    assert decision.confidence >= 0.5
    assert "keywords matched" in decision.reason


def test_nothing_matches_goes_to_triage():
    decision = classify("Pertanyaan umum", "Saya ingin bertanya tentang jadwal acara kota minggu depan.")
    assert decision.opd_id is None and decision.suggestions == ()


def test_a_tie_abstains_with_suggestions():
    decision = classify("Sampah dekat jembatan", "Di sini ada limbah dan drainase tersumbat parah.")
    assert decision.opd_id is None
    assert set(decision.suggestions[:2]) == {"dinas-pupr", "dlh"}


def test_normalise_strips_html_and_expands_abbreviations():
    assert normalise("<p>Mhn jln  rusak!</p>").split() == ["mohon", "jalan", "rusak"]


def test_excluded_opds_are_neither_chosen_nor_suggested():
    decision = classify("Sampah dekat jembatan", "Di sini ada limbah dan drainase tersumbat parah.",
                        exclude=frozenset({"dlh"}))
    assert decision.opd_id == "dinas-pupr" and "dlh" not in decision.suggestions


@pytest.mark.parametrize("excluded", [frozenset({opd}) for opd in OPD_RULES] + [
    frozenset({"dinas-pupr", "dlh"}), frozenset({"dinas-pupr", "dlh", "satpol-pp"})])
def test_no_excluded_opd_ever_comes_back(excluded):
    decision = classify(BUSY_TITLE, BUSY_TEXT, exclude=excluded)
    assert decision.opd_id not in excluded
    assert not excluded & set(decision.suggestions)


def test_when_only_excluded_opds_match_the_reason_says_so():
    decision = classify("Sampah", "Sampah di TPS", exclude=frozenset({"dlh"}))
    assert decision.opd_id is None and decision.suggestions == ()
    assert decision.reason == "only excluded OPDs matched: dlh"


# ---- deciding again: domain.rerouting

def kept(title=BUSY_TITLE, description=BUSY_TEXT, added=(), rejected=()):
    return RoutedComplaint(uuid.uuid4(), "1000001", "kota-contoh", "id", title, description,
                           tuple(added), tuple(rejected))


def test_rejecters_are_excluded_and_named_in_the_reason():
    first = decide(kept(), 0.5)
    assert first.opd_id == "dinas-pupr" and "bukan wewenang" not in first.reason
    again = decide(kept(rejected=["dinas-pupr"]), 0.5, why="re-route after rejection by dinas-pupr")
    assert again.opd_id == "dlh"
    assert again.reason.startswith("re-route after rejection by dinas-pupr; never to dinas-pupr")
    twice = decide(kept(rejected=["dinas-pupr", "dlh"]), 0.5, why="re-route after rejection by dlh")
    assert twice.opd_id is None and set(twice.suggestions) == {"satpol-pp", "dishub"}
    assert "never to dinas-pupr, dlh (bukan wewenang), not even as a suggestion" in twice.reason


def test_the_rejecters_hint_leads_triage_but_never_assigns():
    unsure = decide(kept(rejected=["dinas-pupr", "dlh"]), 0.5, hint="dishub")
    assert unsure.opd_id is None and unsure.suggestions[0] == "dishub"
    assert "pointed to dishub" in unsure.reason
    sure = decide(kept(rejected=["dinas-pupr"]), 0.5, hint="dishub")
    assert sure.opd_id == "dlh", "a confident classification stands"


@pytest.mark.parametrize("hint", ["dlh", "dinas-tidak-ada"])
def test_a_hint_to_a_rejecter_or_an_unknown_opd_is_ignored(hint):
    decision = decide(kept(rejected=["dinas-pupr", "dlh"]), 0.5, hint=hint)
    assert hint not in decision.suggestions and "pointed to" not in decision.reason


def test_added_information_is_read_with_the_text():
    vague = kept("Mohon ditindaklanjuti", "Sudah lama dibiarkan begitu saja.")
    assert decide(vague, 0.5).opd_id is None
    assert decide(vague.with_information("Sampah di TPS tidak diangkut."), 0.5).opd_id == "dlh"


def test_without_its_text_a_complaint_always_goes_to_triage():
    bare = RoutedComplaint.without_text(uuid.uuid4(), "1000001", "kota-contoh")
    assert (decide(bare, 0.5).opd_id, decide(bare, 0.5).reason) == (None, NO_TEXT)
    told = bare.with_rejections("dinas-pupr").with_information("Jalan berlubang, sampah di TPS.")
    decision = decide(told, 0.5)
    assert decision.opd_id is None and ONLY_ADDED in decision.reason
    assert decision.suggestions == ("dlh",), "suggested from what was added, never a rejecter"


def test_a_kept_complaint_merges_rejecters_and_ignores_blank_information():
    complaint = kept().with_rejections("dlh").with_rejections("dinas-pupr", "dlh")
    assert complaint.rejected_by == ("dlh", "dinas-pupr")
    assert complaint.with_information("  ") is complaint and complaint.with_information(None) is complaint
    assert complaint.with_information("Jl. Kenanga").full_description == f"{BUSY_TEXT} Jl. Kenanga"
