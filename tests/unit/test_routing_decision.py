"""Routing's decision, pure: the classifier's reading through the sample jurisdiction's rules,
the threshold, rejecters excluded before classifying, a reporter's chosen category, not ours,
and what an operator sees in triage."""

import uuid

import pytest

from contracts.events import Location
from routing.domain.complaint_text import RoutedComplaint
from routing.domain.decision import Destination, decide, excluded_categories
from routing.domain.jurisdictions import resolve
from routing.domain.keyword_classifier import KeywordClassifier
from routing.jurisdiction_registry import load_files

pytestmark = pytest.mark.unit
BANDUNG = next(j for j in load_files() if j.id == "kota-bandung")
CLASSIFIER = KeywordClassifier()


def complaint(title, description, **fields) -> RoutedComplaint:
    return RoutedComplaint(uuid.uuid4(), "1000001", "kota-bandung", "id", title, description, **fields)


def where(c: RoutedComplaint):
    def destination(code: str) -> Destination:
        found = resolve(BANDUNG, code, c.location, frozenset(c.rejected_by))
        return Destination(found.opd_id, found.opd_name, found.responsible)
    return destination


def decided(c: RoutedComplaint, threshold=0.5, **kw):
    excluded = excluded_categories([s for s, _ in _codes()], lambda code: Destination(
        resolve(BANDUNG, code, c.location).opd_id), c.rejected_by)
    return decide(c, CLASSIFIER, where(c), threshold, excluded=excluded,
                  known_opds=frozenset(o.id for o in BANDUNG.opds), **kw)


def _codes():
    from contracts import taxonomy
    return [(s.code, s) for s in taxonomy.load().subcategories()]


def test_a_clear_reading_is_assigned_through_the_jurisdictions_rules():
    d = decided(complaint("Sampah menumpuk", "Sampah di TPS pasar tidak diangkut seminggu."))
    assert (d.kind, d.opd_id) == ("assign", "dlh") and "sampah" in d.reason
    assert d.classification.subcategory == "lingkungan.sampah"


def test_below_the_threshold_an_operator_decides_with_candidates():
    d = decided(complaint("Sampah menumpuk", "Sampah di TPS pasar tidak diangkut seminggu."),
                threshold=0.99)
    assert d.kind == "triage" and "not sure enough" in d.reason
    assert d.suggestions[0] == "dlh" and d.candidates[0].category == "lingkungan.sampah"


def test_a_rejecter_is_neither_assigned_nor_suggested_again():
    c = complaint("Sampah menumpuk", "Sampah di TPS pasar tidak diangkut seminggu.",
                  rejected_by=("dlh",))
    d = decided(c, threshold=0.0)
    assert d.opd_id != "dlh" and "dlh" not in d.suggestions
    assert all(x.category != "lingkungan.sampah" for x in d.candidates)
    assert "never to dlh" in d.reason


def test_the_reporters_category_is_followed_unless_it_leads_back_to_a_rejecter():
    c = complaint("Tolong", "Sudah lama dibiarkan, mohon dicek.", category="perhubungan.parkir-liar")
    d = decided(c, chosen="perhubungan.parkir-liar")
    assert (d.kind, d.opd_id, d.confidence) == ("assign", "dishub", 1.0)
    rejected = complaint("Tolong", "Sudah lama dibiarkan, mohon dicek.", rejected_by=("dishub",))
    assert decided(rejected, chosen="perhubungan.parkir-liar").opd_id != "dishub"


def test_another_governments_matter_is_found_not_ours_naming_who():
    d = decided(complaint("Tilang", "Kena tilang di jalan, petugas minta uang damai"),
                chosen="keamanan.tilang")
    assert (d.kind, d.responsible) == ("not_ours", "Satlantas Polrestabes Bandung")


def test_a_place_rule_sends_to_the_local_unit():
    here = Location(kecamatan="Coblong")
    d = decided(complaint("Puskesmas", "Antrean puskesmas lama sekali", location=here),
                chosen="kesehatan.puskesmas")
    assert d.opd_id == "pkm-dago"


def test_an_unknown_jurisdiction_goes_to_triage_saying_so():
    c = complaint("Sampah menumpuk", "Sampah di TPS pasar tidak diangkut seminggu.")
    d = decide(c, CLASSIFIER, None, 0.5)
    assert d.kind == "triage" and "not configured" in d.reason and d.suggestions == ()


def test_the_keyword_twin_is_unsure_of_a_tie_and_sure_of_a_clear_winner():
    tie = CLASSIFIER.classify("Laporan", "tps dan pasar")
    clear = CLASSIFIER.classify("Sampah", "sampah di tps menumpuk")
    assert tie.confidence == 0.0 and clear.confidence == 1.0
    assert CLASSIFIER.classify("Mohon info", "Bagaimana cara mengurus KTP?").report_type == "permintaan_informasi"
    assert CLASSIFIER.classify("Bahaya", "Jembatan putus, ada korban").urgency == "tinggi"
