"""Policy selection: defaults, tiers, rules by category, report type and OPD, most specific
last; a jurisdiction's document on top of the national default; the shipped files load."""

import pytest
from pydantic import ValidationError

from sla.domain.policy import PolicySpec, for_jurisdiction, select
from sla.policy_registry import FixedPolicies, load_policy_files

pytestmark = pytest.mark.unit

BASE = {
    "jurisdiction": "*",
    "clocks": {
        "verification": {"working_days": 3},
        "first_response": {"working_days": 5, "warnings": [{"elapsed": 0.6}],
                           "escalation": [{"level": "opd_admin"}]},
        "resolution": {"tier": "biasa"},
        "auto_close": {"working_days": 10},
        "reopen_window": {"working_days": 10},
    },
    "rules": [
        {"when": {"report_type": "permintaan_informasi"}, "resolution": {"tier": "informasi"}},
        {"when": {"category": "kesehatan"}, "first_response": {"working_days": 3}},
        {"when": {"category": "kesehatan.dbd"}, "first_response": {"working_days": 1}},
        {"when": {"category": "kesehatan", "opd": "rsud"}, "first_response": {"working_days": 2}},
        {"when": {"category": ["lingkungan.sampah"]}, "resolution": {"tier": "ringan"}},
    ],
}


def spec(**changes):
    return PolicySpec.model_validate({**BASE, **changes})


def test_the_defaults_and_the_tiers():
    s = spec()
    assert select(s, 7, "verification").working_days == 3
    resolution = select(s, 7, "resolution")
    assert (resolution.working_days, resolution.tier, resolution.version) == (14, "biasa", 7)
    first = select(s, 7, "first_response")
    assert first.plan.warnings[0].elapsed == 0.6 and first.plan.escalation[0].level == "opd_admin"


@pytest.mark.parametrize("category, opd, days", [
    (None, None, 5),
    ("pupr.jalan-rusak", None, 5),
    ("kesehatan.puskesmas", None, 3),     # the main category's rule
    ("kesehatan.dbd", None, 1),           # the subcategory is more specific
    ("kesehatan.puskesmas", "rsud", 2),   # two conditions beat one
    ("kesehatan.dbd", "rsud", 2),         # (2 conditions) beats (1 condition, narrow)
    ("kesehatanx.foo", None, 5),          # a prefix must end at a dot
])
def test_the_most_specific_rule_sets_last(category, opd, days):
    assert select(spec(), 1, "first_response", category=category, opd=opd).working_days == days


def test_report_type_and_category_combine_by_specificity():
    s = spec()
    assert select(s, 1, "resolution", report_type="permintaan_informasi").working_days == 5
    assert select(s, 1, "resolution", report_type="pengaduan").working_days == 14
    # both match with one condition each; the subcategory named exactly is narrower
    assert select(s, 1, "resolution", report_type="permintaan_informasi",
                  category="lingkungan.sampah").tier == "ringan"


def test_a_jurisdiction_names_only_what_differs():
    own = PolicySpec.model_validate({
        "jurisdiction": "kota-x", "clocks": {"resolution": {"working_days": 10}},
        "rules": [{"when": {"category": "kesehatan"}, "first_response": {"working_days": 4}}]})
    merged = for_jurisdiction(spec(), own)
    assert select(merged, 1, "resolution").working_days == 10
    assert select(merged, 1, "resolution").tier is None
    assert select(merged, 1, "first_response", category="kesehatan.puskesmas").working_days == 4
    assert select(merged, 1, "verification").working_days == 3


def test_the_national_default_must_be_complete():
    clocks = dict(BASE["clocks"])
    del clocks["auto_close"]
    with pytest.raises(ValidationError, match="auto_close"):
        spec(clocks=clocks)
    with pytest.raises(ValidationError):
        spec(rules=[{"when": {}, "first_response": {"warnings": [{}]}}])   # a warning needs a threshold


async def test_the_shipped_files_load_and_bandung_keeps_its_own_promises():
    files = load_policy_files()
    assert {s.jurisdiction for s in files} >= {"*", "kota-bandung"}
    policies = FixedPolicies(files)
    makassar = await policies.terms("kota-makassar", "resolution", category="kepegawaian.netralitas-asn")
    bandung = await policies.terms("kota-bandung", "resolution", category="kepegawaian.netralitas-asn")
    assert (makassar.working_days, bandung.working_days) == (60, 14)
    info = await policies.terms("kota-makassar", "resolution", report_type="permintaan_informasi")
    assert info.working_days == 5
    assert (await policies.terms("kota-bandung", "first_response", category="kesehatan.rsud")).working_days == 3


async def test_terms_are_remembered_until_a_new_version_is_in_force():
    """Asked again, the same question gets the same answer without choosing it again; once a
    jurisdiction's own document changes (a new version object), the next answer follows it."""
    from sla.versioned import Version

    files = load_policy_files()
    policies = FixedPolicies(files)
    first = await policies.terms("kota-bandung", "resolution", category="kesehatan.rsud")
    assert await policies.terms("kota-bandung", "resolution", category="kesehatan.rsud") is first
    bandung = next(s for s in files if s.jurisdiction == "kota-bandung")
    stricter = bandung.model_copy(update={"rules": []})
    policies._by["kota-bandung"] = Version("kota-bandung", 2, stricter, "api", None, None, None)
    again = await policies.terms("kota-bandung", "resolution", category="kesehatan.rsud")
    assert again.version == 2 and again is not first
