"""The SLA policies in force (see `versioned` for how files, operators and replicas agree):
selection reads the cached documents, a jurisdiction's own on top of the national default."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Protocol

import asyncpg

from sla.domain.policy import PolicySpec, Selected, for_jurisdiction, select
from sla.versioned import DEFAULT, StaleVersion, Version, VersionedRegistry, load_documents

__all__ = ["DEFAULT", "FixedPolicies", "Policies", "PolicyRegistry", "StaleVersion",
           "load_policy_files"]
PolicyVersion = Version[PolicySpec]


def load_policy_files(directory: Path | str | None = None) -> list[PolicySpec]:
    """`_default.yaml` (the national default) and `<jurisdiction>.yaml`; unset: the shipped ones."""
    folder = resources.files("sla") / "policies" if directory is None else directory
    return load_documents(folder, PolicySpec, "_default")


class Policies(Protocol):
    async def terms(self, jurisdiction: str, kind: str, *, category: str | None = None,
                    report_type: str | None = None, opd: str | None = None) -> Selected:
        """What a clock of `kind` gets for such a complaint, under the policy in force."""


class _Selecting:
    def cached(self, jurisdiction: str) -> PolicyVersion | None:
        raise NotImplementedError

    def effective(self, jurisdiction: str) -> tuple[PolicySpec, int]:
        default = self.cached(DEFAULT)
        own = self.cached(jurisdiction)
        assert default is not None, "no national default policy"
        spec = for_jurisdiction(default.spec, own.spec if own else None)
        return spec, max(default.version, own.version if own else 0)

    def _select(self, jurisdiction, kind, category, report_type, opd) -> Selected:
        # Remembered per question while the documents in force stay the same objects: every
        # complaint starts clocks, and merging the documents and matching the rules each time
        # costs more than the rest of starting one. A new version is a new object: asked again.
        default, own = self.cached(DEFAULT), self.cached(jurisdiction)
        memo: dict = self.__dict__.setdefault("_selected", {})
        key = (jurisdiction, kind, category, report_type, opd)
        hit = memo.get(key)
        if hit is not None and hit[0] is default and hit[1] is own:
            return hit[2]
        spec, version = self.effective(jurisdiction)
        chosen = select(spec, version, kind, category=category, report_type=report_type, opd=opd)
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[key] = (default, own, chosen)
        return chosen


_MEMO_SIZE = 4096   # questions kept: jurisdictions x kinds x categories x report types x OPDs


class FixedPolicies(_Selecting):
    """Twin for unit tests: the given documents (by default the shipped files), never changing."""

    def __init__(self, specs: list[PolicySpec] | None = None) -> None:
        self._by = {s.jurisdiction: Version(s.jurisdiction, 1, s, "file", None, None, None)
                    for s in (load_policy_files() if specs is None else specs)}

    def cached(self, jurisdiction: str) -> PolicyVersion | None:
        return self._by.get(jurisdiction)

    async def terms(self, jurisdiction, kind, *, category=None, report_type=None, opd=None):
        return self._select(jurisdiction, kind, category, report_type, opd)


class PolicyRegistry(VersionedRegistry[PolicySpec], _Selecting):
    def __init__(self, pool: asyncpg.Pool, files: list[PolicySpec], *,
                 refresh_seconds: float = 5.0) -> None:
        super().__init__(pool, "policy_versions", PolicySpec, files,
                         refresh_seconds=refresh_seconds)

    async def terms(self, jurisdiction, kind, *, category=None, report_type=None, opd=None):
        await self._refresh()
        return self._select(jurisdiction, kind, category, report_type, opd)
