"""Calendar versions on real PostgreSQL: the files are seeded once (a restart with the same files
records nothing), an operator's change is a new version with who and why, in force at once
where it was made and within the refresh interval on another replica (whose listeners hear
it), it survives a restart with the same files, a changed file supersedes it, a stale change is
refused, and a jurisdiction without a calendar gets the national one."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from backbone.db import apply_migrations, create_pool
from sla.calendar_registry import CalendarRegistry, StaleVersion, load_calendar_files
from sla.domain.calendar_spec import DayChange
from tests.integration.helpers import eventually

pytestmark = pytest.mark.integration
IDULADHA, EVE = date(2026, 5, 27), date(2026, 5, 26)


@pytest.fixture
async def sla_pool(infra, prefix):
    schema = prefix.replace(".", "") + "_calendars"
    pool = await create_pool(infra.dsn, schema)
    await apply_migrations(pool, schema, "backbone", "sla")
    yield pool
    await pool.close()


def registry(pool, files=None) -> CalendarRegistry:
    return CalendarRegistry(pool, load_calendar_files() if files is None else files,
                            refresh_seconds=0.1)


def moved(spec):
    return spec.with_change(DayChange(op="move", date=IDULADHA, to=EVE, decree="SKB (perubahan)",
                                      note="sidang isbat"))


async def test_seeding_versions_history_restart_and_files(sla_pool):
    files = load_calendar_files()
    first = registry(sla_pool)
    await first.start()
    await first.start()                                  # a restart records nothing new
    rows = await sla_pool.fetch("SELECT jurisdiction, source, actor FROM calendar_versions")
    assert sorted(r["jurisdiction"] for r in rows) == sorted(f.jurisdiction for f in files)
    assert {(r["source"], r["actor"]) for r in rows} == {("file", "configuration file")}

    bandung = await first.current("kota-bandung")
    assert (await first.calendar("kota-bandung")).is_working_day(EVE)
    saved = await first.change(moved(bandung.spec), actor="op-7", note="Iduladha maju sehari",
                               expected_version=bandung.version)
    assert saved.version > bandung.version
    cal = await first.calendar("kota-bandung")                    # at once where it was made
    assert not cal.is_working_day(EVE) and cal.is_working_day(IDULADHA)
    assert cal.version == saved.version
    assert (await first.calendar("kota-makassar")).is_working_day(EVE)   # others keep theirs
    history = await first.history("kota-bandung")
    assert [(v.source, v.actor, v.note) for v in history] == [
        ("api", "op-7", "Iduladha maju sehari"), ("file", "configuration file", "first load of the file")]
    assert history[0].spec.changes[-1].decree == "SKB (perubahan)"
    with pytest.raises(StaleVersion):
        await first.change(bandung.spec, actor="op-8", note="terlambat",
                           expected_version=bandung.version)

    restarted = registry(sla_pool)
    await restarted.start()                              # same files: the operator's change stands
    assert not (await restarted.calendar("kota-bandung")).is_working_day(EVE)

    office = {"mon": "08:00-16:00", "tue": "08:00-16:00", "wed": "08:00-16:00",
              "thu": "08:00-16:00", "fri": "08:00-16:30"}
    changed = [f.model_copy(update={"office_hours": office}) if f.jurisdiction == "kota-bandung"
               else f for f in files]
    deployed = registry(sla_pool, changed)
    await deployed.start()                               # a changed file is a new version: it wins
    cal = await deployed.calendar("kota-bandung")
    assert cal.is_working_day(EVE) and cal.office_hours[0] == (time(8), time(16))
    assert [v.source for v in await deployed.history("kota-bandung")] == ["file", "api", "file"]
    await deployed.start()                               # and is recorded once
    assert len(await deployed.history("kota-bandung")) == 3


async def test_another_replica_adopts_a_change_and_tells_its_listeners(sla_pool):
    here, there = registry(sla_pool), registry(sla_pool)
    await here.start()
    await there.start()
    heard = []

    async def listener(jurisdiction, old, new):
        heard.append((jurisdiction, old.is_working_day(EVE), new.is_working_day(EVE),
                      new.version > old.version))

    there.add_listener(listener)
    jayapura = await here.current("kota-jayapura")
    await here.change(moved(jayapura.spec), actor="op-1", note="isbat")

    async def adopted():
        return not (await there.calendar("kota-jayapura")).is_working_day(EVE)

    await eventually(adopted, "the other replica adopts the change")
    assert heard == [("kota-jayapura", True, False, True)]
    start = datetime(2026, 5, 26, 9, tzinfo=ZoneInfo("Asia/Jayapura"))
    assert (await there.calendar("kota-jayapura")).deadline(start, 0).isoformat() == \
        "2026-05-27T23:59:59+09:00"     # 26 May is off now, 27 May a working day


async def test_an_unknown_jurisdiction_gets_the_national_calendar_until_it_has_its_own(sla_pool):
    calendars = registry(sla_pool)
    await calendars.start()
    national = await calendars.calendar("kabupaten-sorong")
    assert (national.jurisdiction, national.timezone) == ("*", "Asia/Jakarta")
    assert await calendars.current("kabupaten-sorong") is None
    own = (await calendars.current("*")).spec.model_copy(
        update={"jurisdiction": "kabupaten-sorong", "timezone": "Asia/Jayapura"})
    await calendars.change(own, actor="op-2", note="WIT")
    assert (await calendars.calendar("kabupaten-sorong")).timezone == "Asia/Jayapura"
    assert (await calendars.calendar("kabupaten-lain")).timezone == "Asia/Jakarta"
