"""The SLA policies in force: files seeded as versions, operators' changes as new versions,
an in-process cache every replica refreshes.

Same precedence as routing's jurisdictions: at start a file is recorded as a new version only
when it differs from the newest version that came from a file, so an unchanged file never undoes
an operator's change; the newest version is in force. Policy selection runs for every lifecycle
fact, so it reads the cache; each replica checks the newest version numbers (one indexed query)
at most every `refresh_seconds`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Protocol

import asyncpg
import yaml
from pydantic import ValidationError

from sla.domain.policy import PolicySpec, Selected, for_jurisdiction, select

log = logging.getLogger(__name__)
DEFAULT = "*"


def load_policy_files(directory: Path | str | None = None) -> list[PolicySpec]:
    """Every `*.yaml` (the default is `_default.yaml`); a broken file stops the start."""
    folder = resources.files("sla") / "policies" if directory is None else Path(directory)
    found = []
    for entry in sorted((e for e in folder.iterdir() if e.name.endswith((".yaml", ".yml"))),
                        key=lambda e: e.name):
        try:
            spec = PolicySpec.model_validate(yaml.safe_load(entry.read_text("utf-8")))
        except (ValidationError, yaml.YAMLError) as exc:
            raise ValueError(f"policy file {entry.name} is not valid: {exc}") from exc
        expected = "_default" if spec.jurisdiction == DEFAULT else spec.jurisdiction
        if entry.name.rsplit(".", 1)[0] != expected:
            raise ValueError(f"policy file {entry.name} is for {spec.jurisdiction!r}: "
                             f"name it {expected}.yaml")
        found.append(spec)
    if not any(s.jurisdiction == DEFAULT for s in found):
        raise ValueError("no national default policy (_default.yaml)")
    return found


class Policies(Protocol):
    async def terms(self, jurisdiction: str, kind: str, *, category: str | None = None,
                    report_type: str | None = None, opd: str | None = None) -> Selected:
        """What a clock of `kind` gets for such a complaint, under the policy in force."""


@dataclass(frozen=True)
class PolicyVersion:
    jurisdiction: str
    version: int
    spec: PolicySpec
    source: str
    actor: str | None
    note: str | None
    created_at: datetime | None


class _Selecting:
    _cache: dict[str, PolicyVersion]

    def effective(self, jurisdiction: str) -> tuple[PolicySpec, int]:
        default = self._cache[DEFAULT]
        own = self._cache.get(jurisdiction)
        spec = for_jurisdiction(default.spec, own.spec if own else None)
        return spec, max(default.version, own.version if own else 0)

    def _select(self, jurisdiction: str, kind: str, category: str | None,
                report_type: str | None, opd: str | None) -> Selected:
        spec, version = self.effective(jurisdiction)
        return select(spec, version, kind, category=category, report_type=report_type, opd=opd)


class FixedPolicies(_Selecting):
    """Twin for unit tests: the given documents (by default the shipped files), never changing."""

    def __init__(self, specs: list[PolicySpec] | None = None) -> None:
        self._cache = {s.jurisdiction: PolicyVersion(s.jurisdiction, 1, s, "file", None, None, None)
                       for s in (load_policy_files() if specs is None else specs)}

    async def terms(self, jurisdiction, kind, *, category=None, report_type=None, opd=None):
        return self._select(jurisdiction, kind, category, report_type, opd)


class StaleVersion(Exception):
    """The caller changed a version that is no longer the newest."""


class PolicyRegistry(_Selecting):
    def __init__(self, pool: asyncpg.Pool, files: list[PolicySpec], *,
                 refresh_seconds: float = 5.0) -> None:
        self._pool = pool
        self._files = files
        self._refresh_seconds = refresh_seconds
        self._cache = {}
        self._checked_at: float | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        async with self._pool.acquire() as conn:
            for spec in self._files:
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('sla.policy:' || $1))",
                                       spec.jurisdiction)
                    last = await conn.fetchval(
                        "SELECT spec FROM policy_versions WHERE jurisdiction = $1 AND source = 'file'"
                        " ORDER BY version DESC LIMIT 1", spec.jurisdiction)
                    if last is not None and json.loads(last) == _json(spec):
                        continue
                    await conn.execute(
                        "INSERT INTO policy_versions (jurisdiction, spec, source, actor, note)"
                        " VALUES ($1, $2::jsonb, 'file', 'configuration file', $3)",
                        spec.jurisdiction, json.dumps(_json(spec)),
                        ("first load" if last is None else "changed") + " of the policy file")
        await self._refresh(force=True)

    async def terms(self, jurisdiction, kind, *, category=None, report_type=None, opd=None):
        await self._refresh()
        return self._select(jurisdiction, kind, category, report_type, opd)

    async def current(self, jurisdiction: str) -> PolicyVersion | None:
        await self._refresh()
        return self._cache.get(jurisdiction)

    async def all(self) -> list[PolicyVersion]:
        await self._refresh()
        return [self._cache[k] for k in sorted(self._cache)]

    async def change(self, spec: PolicySpec, *, actor: str, note: str | None,
                     expected_version: int | None = None) -> PolicyVersion:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('sla.policy:' || $1))",
                               spec.jurisdiction)
            newest = await conn.fetchval(
                "SELECT max(version) FROM policy_versions WHERE jurisdiction = $1", spec.jurisdiction)
            if expected_version is not None and newest != expected_version:
                raise StaleVersion(f"version {expected_version} is not the newest ({newest})")
            row = await conn.fetchrow(
                "INSERT INTO policy_versions (jurisdiction, spec, source, actor, note)"
                " VALUES ($1, $2::jsonb, 'api', $3, $4) RETURNING version, created_at",
                spec.jurisdiction, json.dumps(_json(spec)), actor, note)
        saved = PolicyVersion(spec.jurisdiction, row["version"], spec, "api", actor, note,
                              row["created_at"])
        self._cache[spec.jurisdiction] = saved
        return saved

    async def history(self, jurisdiction: str, limit: int = 50) -> list[PolicyVersion]:
        rows = await self._pool.fetch(
            "SELECT * FROM policy_versions WHERE jurisdiction = $1 ORDER BY version DESC LIMIT $2",
            jurisdiction, limit)
        return [_version(r) for r in rows]

    async def _refresh(self, force: bool = False) -> None:
        if not force and self._checked_at is not None and \
                time.monotonic() - self._checked_at < self._refresh_seconds:
            return
        async with self._lock:
            if not force and self._checked_at is not None and \
                    time.monotonic() - self._checked_at < self._refresh_seconds:
                return
            heads = await self._pool.fetch(
                "SELECT jurisdiction, max(version) AS version FROM policy_versions GROUP BY 1")
            for head in heads:
                known = self._cache.get(head["jurisdiction"])
                if known is not None and known.version >= head["version"]:
                    continue
                row = await self._pool.fetchrow(
                    "SELECT * FROM policy_versions WHERE version = $1", head["version"])
                try:
                    self._cache[row["jurisdiction"]] = _version(row)
                except ValidationError:
                    log.error("stored policy version is not valid",
                              extra={"jurisdiction": row["jurisdiction"], "version": row["version"]})
            self._checked_at = time.monotonic()


def _json(spec: PolicySpec) -> dict:
    return spec.model_dump(mode="json", exclude_none=True)


def _version(row: asyncpg.Record) -> PolicyVersion:
    return PolicyVersion(row["jurisdiction"], row["version"],
                         PolicySpec.model_validate(json.loads(row["spec"])), row["source"],
                         row["actor"], row["note"], row["created_at"])
