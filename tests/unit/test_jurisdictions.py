"""Jurisdictions: first-match rule order, main versus subcategory, kecamatan, kelurahan and
polygon rules, not-ours, validation, the shipped samples, and the registry's versions and
cache on the in-memory unit of work."""

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError
from shapely.geometry import Polygon

from contracts import taxonomy
from contracts.events import Location
from routing.adapters.decisions import RoutingInMemoryUnitOfWork
from routing.adapters.jurisdictions import StaleVersion
from routing.domain.jurisdictions import Jurisdiction, resolve, uncovered
from routing.jurisdiction_registry import JurisdictionRegistry, load_files

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
SQUARE = [[107.60, -6.93], [107.62, -6.93], [107.62, -6.91], [107.60, -6.91]]


def city(*rules, **extra) -> Jurisdiction:
    return Jurisdiction.model_validate({
        "id": "kota-uji", "name": "Kota Uji", "timezone": "Asia/Jakarta",
        "opds": [{"id": "dinkes", "name": "Dinas Kesehatan"},
                 {"id": "pkm-dago", "name": "Puskesmas Dago", "kind": "puskesmas"},
                 {"id": "kecamatan-regol", "name": "Kecamatan Regol", "kind": "kecamatan"},
                 {"id": "satpol-pp", "name": "Satpol PP", "kind": "satuan",
                  "contacts": {"email": "satpol@uji.example", "phone": "+62 22 555"}}],
        "rules": list(rules), **extra})


def test_the_first_matching_rule_wins_in_file_order():
    specific_first = city({"category": "kesehatan.puskesmas", "opd": "pkm-dago"},
                          {"category": "kesehatan", "opd": "dinkes"})
    general_first = city({"category": "kesehatan", "opd": "dinkes"},
                         {"category": "kesehatan.puskesmas", "opd": "pkm-dago"})
    assert resolve(specific_first, "kesehatan.puskesmas").opd_id == "pkm-dago"
    assert resolve(specific_first, "kesehatan.puskesmas").rule == 1
    assert resolve(general_first, "kesehatan.puskesmas").opd_id == "dinkes"
    assert resolve(general_first, "kesehatan.puskesmas").rule == 1


def test_a_main_code_matches_its_subcategories_and_a_subcategory_only_itself():
    j = city({"category": "kesehatan.puskesmas", "opd": "pkm-dago"},
             {"category": "trantibum", "opd": "satpol-pp"})
    assert resolve(j, "trantibum.pkl").opd_id == "satpol-pp"
    assert resolve(j, "trantibum.kebisingan").opd_name == "Satpol PP"
    assert resolve(j, "kesehatan.rsud").kind == "none"
    assert resolve(j, "kesehatan").kind == "none"          # a bare main code is not a subcategory
    assert resolve(j, "trantibum").opd_id == "satpol-pp"   # but a main rule matches it


def test_kecamatan_and_kelurahan_rules_match_names_as_people_write_them():
    j = city({"category": "kesehatan.puskesmas", "kecamatan": "Coblong", "opd": "pkm-dago"},
             {"category": "trantibum", "kelurahan": "Ciateul", "opd": "kecamatan-regol"},
             {"category": "kesehatan", "opd": "dinkes"},
             {"category": "trantibum", "opd": "satpol-pp"})
    for written in ("Coblong", "coblong", "Kec. Coblong", "KECAMATAN  COBLONG"):
        assert resolve(j, "kesehatan.puskesmas", Location(kecamatan=written)).opd_id == "pkm-dago"
    assert resolve(j, "kesehatan.puskesmas", Location(kecamatan="Regol")).opd_id == "dinkes"
    assert resolve(j, "kesehatan.puskesmas", None).opd_id == "dinkes"
    assert resolve(j, "kesehatan.puskesmas", Location(kelurahan="Coblong")).opd_id == "dinkes"
    assert resolve(j, "trantibum.pkl", Location(kelurahan="Kel. Ciateul")).opd_id == "kecamatan-regol"
    assert resolve(j, "trantibum.pkl", Location(kelurahan="Pasirluyu")).opd_id == "satpol-pp"


def test_all_conditions_of_a_rule_must_hold():
    j = city({"category": "trantibum.pkl", "kecamatan": "Regol", "kelurahan": "Ciateul",
              "opd": "kecamatan-regol"}, {"category": "trantibum", "opd": "satpol-pp"})
    both = Location(kecamatan="Regol", kelurahan="Ciateul")
    assert resolve(j, "trantibum.pkl", both).opd_id == "kecamatan-regol"
    assert resolve(j, "trantibum.pkl", Location(kecamatan="Regol")).opd_id == "satpol-pp"


def test_a_polygon_rule_matches_points_inside_it_only():
    j = city({"category": "trantibum.pkl", "polygon": SQUARE, "opd": "kecamatan-regol"},
             {"category": "trantibum", "opd": "satpol-pp"})
    assert resolve(j, "trantibum.pkl", Location(lat=-6.92, lon=107.61)).opd_id == "kecamatan-regol"
    assert resolve(j, "trantibum.pkl", Location(lat=-6.92, lon=107.60)).opd_id == "kecamatan-regol"  # edge
    assert resolve(j, "trantibum.pkl", Location(lat=-6.95, lon=107.61)).opd_id == "satpol-pp"
    assert resolve(j, "trantibum.pkl", Location(kecamatan="Regol")).opd_id == "satpol-pp"  # no point
    # [lon, lat] order: the same numbers swapped are somewhere else entirely.
    assert resolve(j, "trantibum.pkl", Location(lat=-6.92, lon=-6.92)).opd_id == "satpol-pp"


def test_not_ours_names_the_responsible_body_and_a_default_catches_the_rest():
    j = city({"category": "keamanan", "not_ours": "Polrestabes Bandung"},
             {"category": "kesehatan", "opd": "dinkes"}, default_opd="satpol-pp")
    answer = resolve(j, "keamanan.narkoba")
    assert (answer.kind, answer.responsible, answer.opd_id) == ("not_ours", "Polrestabes Bandung", None)
    assert resolve(j, "pupr.jalan-rusak").opd_id == "satpol-pp"
    assert resolve(j, "pupr.jalan-rusak").rule == 0
    assert resolve(city(), "pupr.jalan-rusak").kind == "none"


def test_an_opd_that_said_bukan_wewenang_is_passed_over_for_the_next_rule():
    j = city({"category": "kesehatan.puskesmas", "opd": "pkm-dago"},
             {"category": "kesehatan", "opd": "dinkes"})
    assert resolve(j, "kesehatan.puskesmas", exclude_opds=frozenset({"pkm-dago"})).opd_id == "dinkes"
    assert resolve(j, "kesehatan.puskesmas",
                   exclude_opds=frozenset({"pkm-dago", "dinkes"})).kind == "none"


@pytest.mark.parametrize(("change", "message"), [
    ({"rules": [{"category": "kesehatan", "opd": "dinas-tidak-ada"}]}, "unknown OPD 'dinas-tidak-ada'"),
    ({"rules": [{"category": "kesehatan.tidak-ada", "opd": "dinkes"}]}, "unknown category"),
    ({"rules": [{"category": "astrologi", "opd": "dinkes"}]}, "unknown category 'astrologi'"),
    ({"timezone": "Asia/Bandung"}, "not an IANA time zone"),
    ({"timezone": "WIB"}, "not an IANA time zone"),
    ({"default_opd": "dinas-tidak-ada"}, "default_opd"),
    ({"rules": [{"category": "kesehatan", "opd": "dinkes", "not_ours": "BPJS"}]}, "exactly one"),
    ({"rules": [{"category": "kesehatan"}]}, "exactly one"),
    ({"rules": [{"category": "kesehatan", "opd": "dinkes", "polygon": [[0, 0], [1, 1]]}]},
     "at least 3 points"),
    ({"rules": [{"category": "kesehatan", "opd": "dinkes",
                 "polygon": [[0, 0], [1, 1], [1, 0], [0, 1]]}]}, "not a valid area"),   # bow tie
    ({"opds": [{"id": "dinkes", "name": "Dinkes"}, {"id": "dinkes", "name": "Dinkes 2"}]}, "unique"),
    ({"opds": [{"id": "Dinkes Kota", "name": "Dinkes"}]}, "pattern"),
    ({"opds": [{"id": "dinkes", "name": "Dinkes", "contacts": {"email": "bukan-email"}}]}, "email"),
])
def test_a_configuration_that_does_not_hold_together_is_refused(change, message):
    config = {"id": "kota-uji", "name": "Kota Uji", "timezone": "Asia/Jakarta",
              "opds": [{"id": "dinkes", "name": "Dinas Kesehatan"}], **change}
    with pytest.raises(ValidationError, match=message):
        Jurisdiction.model_validate(config)


def test_opd_topics_are_derived_unless_given():
    j = Jurisdiction.model_validate({
        "id": "kota-uji", "name": "Kota Uji", "timezone": "Asia/Jayapura",
        "opds": [{"id": "dinkes", "name": "Dinkes"},
                 {"id": "dlh", "name": "DLH", "topic": "kota-uji.dlh.feed"}]})
    assert j.opd("dinkes").topic == "complaints.opd.kota-uji.dinkes"
    assert j.opd("dlh").topic == "kota-uji.dlh.feed"
    assert j.opd("tidak-ada") is None
    assert Jurisdiction.model_validate(j.config()) == j


def test_the_three_samples_load_one_per_time_zone_and_map_every_subcategory():
    samples = {j.id: j for j in load_files()}
    assert {k: v.timezone for k, v in samples.items()} == {
        "kota-bandung": "Asia/Jakarta", "kota-makassar": "Asia/Makassar",
        "kota-jayapura": "Asia/Jayapura"}
    shared = {"dinas-pupr", "dlh", "disdukcapil", "dishub", "dinkes", "disdik", "dpmptsp",
              "bapenda", "satpol-pp", "dinsos"}
    for j in samples.values():
        assert 25 <= len(j.opds) <= 40 and shared <= {o.id for o in j.opds}
        assert uncovered(j) == []
        assert all(o.contacts.email and o.contacts.email.endswith(".example") for o in j.opds)
        assert resolve(j, "pupr.jalan-rusak").opd_id == "dinas-pupr"
        assert resolve(j, "lingkungan.sampah").opd_id == "dlh"
        assert resolve(j, "imigrasi.paspor").responsible.startswith("Kantor Imigrasi")
        assert resolve(j, "energi.listrik").responsible.startswith("PLN")
        assert resolve(j, "pertanahan.sertifikat").responsible.startswith("Kantor Pertanahan")
        assert resolve(j, "keamanan.kriminalitas").responsible.startswith("Polres")
        assert resolve(j, "kesehatan.bpjs-kesehatan").responsible.startswith("BPJS Kesehatan")
        # Every main category is named by at least one rule of its own.
        assert {c.code for c in taxonomy.load().categories} <= {
            r.category.split(".")[0] for r in j.rules}
        # The geographic rules resolve somewhere more specific than the general OPD.
        geo = [r for r in j.rules if r.kecamatan or r.kelurahan or r.polygon]
        assert len(geo) >= 3 and any(r.polygon for r in geo)
        for rule in geo:   # each sends a complaint from its place to its own unit
            lon, lat = (Polygon(rule.polygon).centroid.coords[0] if rule.polygon else (None, None))
            where = Location(kecamatan=rule.kecamatan, kelurahan=rule.kelurahan, lat=lat, lon=lon)
            assert resolve(j, rule.category, where).opd_id == rule.opd != resolve(j, rule.category).opd_id


def test_bandung_puskesmas_rule_by_kecamatan_and_polygon():
    bandung = next(j for j in load_files() if j.id == "kota-bandung")
    assert resolve(bandung, "kesehatan.puskesmas", Location(kecamatan="Coblong")).opd_id == "pkm-dago"
    assert resolve(bandung, "kesehatan.puskesmas", Location(kecamatan="Antapani")).opd_id == "dinkes"
    alun_alun = Location(lat=-6.9217, lon=107.6070)
    assert resolve(bandung, "trantibum.pkl", alun_alun).opd_id == "kecamatan-regol"
    assert resolve(bandung, "trantibum.pkl", Location(lat=-6.8900, lon=107.6100)).opd_id == "satpol-pp"


def test_a_broken_file_stops_the_start_with_its_name(tmp_path):
    (tmp_path / "kota-rusak.yaml").write_text(
        "id: kota-rusak\nname: Kota Rusak\ntimezone: Asia/Jakarta\n"
        "opds: [{id: dinkes, name: Dinkes}]\nrules: [{category: kesehatan, opd: dlh}]\n")
    with pytest.raises(ValueError, match="(?s)kota-rusak.yaml.*unknown OPD 'dlh'"):
        load_files(tmp_path)


def _registry(uow, files, clock=lambda: NOW, refresh=5.0):
    return JurisdictionRegistry(lambda: uow, clock, files=files, refresh_seconds=refresh)


async def test_files_become_versions_once_and_api_changes_survive_an_unchanged_file():
    uow = RoutingInMemoryUnitOfWork()
    base = city({"category": "kesehatan", "opd": "dinkes"})
    first = _registry(uow, [base])
    assert (await first.current("kota-uji")).version == 1
    assert await first.current("kota-lain") is None

    changed = base.model_copy(update={"rules": (base.rules[0].model_copy(update={"opd": "pkm-dago"}),)})
    saved = await first.change(changed, changed_by="op-1", reason="puskesmas takes it")
    assert saved.version == 2 and resolve(await first.current("kota-uji"), "kesehatan.rsud").opd_id == "pkm-dago"
    with pytest.raises(StaleVersion):
        await first.change(changed, changed_by="op-2", reason="stale", expected_version=1)

    restarted = _registry(uow, [base])          # same file: the operator's change stays
    assert (await restarted.current("kota-uji")).version == 2
    deployed = _registry(uow, [city({"category": "kesehatan", "opd": "satpol-pp"})])
    assert resolve(await deployed.current("kota-uji"), "kesehatan.rsud").opd_id == "satpol-pp"
    async with uow:
        history = await uow.jurisdictions.history("kota-uji")
    assert [(v.version, v.source, v.changed_by) for v in history] == [
        (3, "file", "configuration file"), (2, "api", "op-1"), (1, "file", "configuration file")]
    assert history[1].reason == "puskesmas takes it"


async def test_another_replica_sees_a_change_after_its_refresh_interval():
    uow = RoutingInMemoryUnitOfWork()
    base = city({"category": "kesehatan", "opd": "dinkes"})
    here, there = _registry(uow, [base], refresh=3600), _registry(uow, [base], refresh=0.0)
    assert (await here.current("kota-uji")).version == (await there.current("kota-uji")).version == 1
    seen = []

    async def listener(j):
        seen.append((j.id, j.version))

    there.on_change(listener)
    await here.change(city({"category": "kesehatan", "opd": "pkm-dago"}), changed_by="op", reason="why")
    assert (await there.current("kota-uji")).version == 2 and seen == [("kota-uji", 2)]
    still = _registry(uow, [], refresh=3600)
    assert [j.id for j in await still.all()] == ["kota-uji"]


def test_a_file_is_named_after_the_jurisdiction_it_holds(tmp_path):
    (tmp_path / "kota-a.yaml").write_text(
        "id: kota-b\nname: Kota B\ntimezone: Asia/Makassar\nopds: [{id: dinkes, name: Dinkes}]\n")
    with pytest.raises(ValueError, match="name it kota-b.yaml"):
        load_files(str(tmp_path))
