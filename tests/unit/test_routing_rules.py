import pytest

from routing.domain.rules import classify, normalise


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
