"""SLA policy versions on PostgreSQL: files are recorded once and only when changed, an
operator's change is in force at once and survives a restart with the same files, a changed
file supersedes it, a stale change is refused, and another replica sees a change without a
restart."""

import pytest

from backbone.db import apply_migrations, create_pool
from sla.domain.policy import PolicySpec
from sla.policy_registry import PolicyRegistry, StaleVersion, load_policy_files
from tests.integration.helpers import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def sla_pool(infra, prefix):
    schema = prefix.replace(".", "") + "_policies"
    pool = await create_pool(infra.dsn, schema)
    await apply_migrations(pool, schema, "backbone", "sla")
    yield pool
    await pool.close()


def bandung(days: int) -> PolicySpec:
    return PolicySpec.model_validate({"jurisdiction": "kota-bandung",
                                      "clocks": {"first_response": {"working_days": days}}})


async def terms(registry, **facts):
    return await registry.terms("kota-bandung", "first_response", **facts)


async def test_files_operators_and_replicas(sla_pool):
    files = load_policy_files()
    first = PolicyRegistry(sla_pool, files, refresh_seconds=0.1)
    await first.start()
    await first.start()                              # a restart records nothing new
    assert await sla_pool.fetchval("SELECT count(*) FROM policy_versions") == len(files)
    shipped = await terms(first)
    assert shipped.working_days == 5

    other = PolicyRegistry(sla_pool, files, refresh_seconds=0.1)
    await other.start()
    current = await first.current("kota-bandung")
    saved = await first.change(bandung(4), actor="op-1", note="SK 2027",
                               expected_version=current.version)
    assert (await terms(first)).working_days == 4                    # at once where it was made
    assert (await terms(first)).version == saved.version
    await eventually(lambda: _days(other, 4), "the other replica sees it")
    with pytest.raises(StaleVersion):
        await first.change(bandung(3), actor="op-2", note="late", expected_version=current.version)

    restarted = PolicyRegistry(sla_pool, files, refresh_seconds=0.1)
    await restarted.start()                          # same files: the operator's change stands
    assert (await terms(restarted)).working_days == 4

    changed_files = [bandung(6) if f.jurisdiction == "kota-bandung" else f for f in files]
    deployed = PolicyRegistry(sla_pool, changed_files, refresh_seconds=0.1)
    await deployed.start()                           # a changed file is a new version: it wins
    assert (await terms(deployed)).working_days == 6
    history = await deployed.history("kota-bandung")
    assert [(v.source, _own_days(v.spec)) for v in history[:3]] == [
        ("file", 6), ("api", 4), ("file", None)]


async def _days(registry, days):
    return (await terms(registry)).working_days == days


def _own_days(spec: PolicySpec) -> int | None:
    own = spec.clocks.get("first_response")
    return own.working_days if own else None
