"""Jurisdictions: a city or regency on the installation, its OPDs and its routing rules.

One installation serves several cities, each with its own time zone, its own OPDs and its own
idea of who handles what. A jurisdiction's configuration says it as data, so a city changes it
without a release: ordered rules, each naming a category (a main code such as `kesehatan`
matches all its subcategories, a subcategory code such as `kesehatan.puskesmas` only itself),
optionally narrowed to a kecamatan, a kelurahan or a polygon, and ending in either an OPD of
the city or `not_ours` with the body that is responsible (Polres, Kantor Imigrasi, PLN, ...).
The first rule that matches wins, in the order written, so a specific rule (a kecamatan's
puskesmas) goes above the general one (Dinas Kesehatan) it refines.

Pure: validation and resolution only; loading files and keeping versions live in adapters.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator
from shapely.geometry import Point, Polygon
from shapely.prepared import PreparedGeometry, prep
from shapely.validation import explain_validity

from contracts import taxonomy, topics

_ID = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
OpdKind = Literal["dinas", "badan", "sekretariat", "inspektorat", "satuan", "kecamatan",
                  "kelurahan", "puskesmas", "rsud", "upt", "bumd", "lainnya"]


class Contacts(BaseModel):
    """An office's public contacts (not a person's): published by the city anyway."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+() -]{3,40}$")
    url: str | None = Field(default=None, max_length=300, pattern=r"^https?://\S+$")


class Opd(BaseModel):
    """An Organisasi Perangkat Daerah, or a smaller unit that receives dispositions (a kecamatan
    office, a puskesmas). `topic` is where its feed goes; unset, it is derived from the ids."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=_ID, max_length=60)
    name: str = Field(min_length=2, max_length=200)
    kind: OpdKind = "dinas"
    contacts: Contacts = Contacts()
    topic: str | None = Field(default=None, pattern=r"^[a-zA-Z0-9._-]{1,200}$")


class Rule(BaseModel):
    """One line of the routing table: the conditions (all that are given must hold) and where
    a complaint that meets them goes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    category: str = Field(min_length=1, max_length=120)
    kecamatan: str | None = Field(default=None, max_length=120)
    kelurahan: str | None = Field(default=None, max_length=120)
    polygon: tuple[tuple[float, float], ...] | None = Field(
        default=None, description="[lon, lat] points of a ring (GeoJSON order); closed or not")
    opd: str | None = None
    not_ours: str | None = Field(default=None, min_length=2, max_length=200,
                                 description="The body responsible, when the city is not")

    @model_validator(mode="after")
    def _one_target(self) -> Rule:
        if (self.opd is None) == (self.not_ours is None):
            raise ValueError(f"rule for {self.category!r}: give exactly one of 'opd' or 'not_ours'")
        if self.polygon is not None:
            _polygon(self.polygon, self.category)   # raises when it is not a valid area
        return self

    def matches(self, subcategory: str, location: Place | None) -> bool:
        if not _category_matches(self.category, subcategory):
            return False
        if self.kecamatan is not None and not _same_place(
                self.kecamatan, location and location.kecamatan, _KECAMATAN):
            return False
        if self.kelurahan is not None and not _same_place(
                self.kelurahan, location and location.kelurahan, _KELURAHAN):
            return False
        if self.polygon is not None:
            if location is None or location.lat is None or location.lon is None:
                return False
            return _prepared(self.polygon).covers(Point(location.lon, location.lat))
        return True


class Place(Protocol):
    """Where a complaint is: `contracts.events.Location` has these fields."""

    kecamatan: str | None
    kelurahan: str | None
    lat: float | None
    lon: float | None


class Jurisdiction(BaseModel):
    """A city's whole configuration. `version` is given by the store that keeps its history."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=_ID, max_length=60)
    name: str = Field(min_length=2, max_length=200)
    timezone: str = Field(description="IANA name, e.g. Asia/Jakarta (WIB)")
    version: int = Field(default=0, ge=0)
    opds: tuple[Opd, ...] = Field(min_length=1)
    rules: tuple[Rule, ...] = ()
    default_opd: str | None = Field(default=None, description="Where nothing matches; else triage")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"{value!r} is not an IANA time zone name (e.g. Asia/Jakarta)")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone name") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Jurisdiction:
        ids = [o.id for o in self.opds]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"OPD ids must be unique: {', '.join(duplicates)}")
        known, tax = set(ids), taxonomy.load()
        problems = []
        for n, rule in enumerate(self.rules, 1):
            if not _category_exists(tax, rule.category):
                problems.append(f"rule {n}: unknown category {rule.category!r}")
            if rule.opd is not None and rule.opd not in known:
                problems.append(f"rule {n}: unknown OPD {rule.opd!r}")
        if self.default_opd is not None and self.default_opd not in known:
            problems.append(f"default_opd: unknown OPD {self.default_opd!r}")
        if problems:
            raise ValueError("; ".join(problems))
        # Each OPD's feed topic, derived where the file leaves it out.
        filled = tuple(o if o.topic else o.model_copy(update={"topic": opd_topic(self.id, o.id)})
                       for o in self.opds)
        object.__setattr__(self, "opds", filled)
        return self

    def opd(self, opd_id: str) -> Opd | None:
        # A scan of some 30 entries: cheaper than keeping an index right through model_copy.
        return next((o for o in self.opds if o.id == opd_id), None)

    def config(self) -> dict:
        """The configuration as kept and edited (JSON-ready), without the version."""
        return self.model_dump(mode="json", exclude={"version"}, exclude_none=True)


class Resolution(BaseModel):
    """Where a complaint goes by the rules: an OPD, another government's body, or nobody
    (no rule matched and no default: a person decides). `rule` is the 1-based rule that
    decided (0 for the default), for explanations and the audit."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["opd", "not_ours", "none"]
    opd_id: str | None = None
    opd_name: str | None = None
    responsible: str | None = None
    rule: int | None = None


def resolve(jurisdiction: Jurisdiction, subcategory: str, location: Place | None = None,
            exclude_opds: frozenset[str] = frozenset()) -> Resolution:
    """The first rule that matches, in the order written. Rules pointing at an OPD in
    `exclude_opds` (OPDs that already said "bukan wewenang") are passed over, so the next
    matching rule gets its turn."""
    for n, rule in enumerate(jurisdiction.rules, 1):
        if rule.opd is not None and rule.opd in exclude_opds:
            continue
        if rule.matches(subcategory, location):
            if rule.not_ours is not None:
                return Resolution(kind="not_ours", responsible=rule.not_ours, rule=n)
            opd = jurisdiction.opd(rule.opd)
            return Resolution(kind="opd", opd_id=opd.id, opd_name=opd.name, rule=n)
    default = jurisdiction.default_opd
    if default is not None and default not in exclude_opds:
        opd = jurisdiction.opd(default)
        return Resolution(kind="opd", opd_id=opd.id, opd_name=opd.name, rule=0)
    return Resolution(kind="none")


def uncovered(jurisdiction: Jurisdiction) -> list[str]:
    """Subcategories of the taxonomy that no rule (nor the default) resolves for a complaint
    without a location: a check for whoever edits a configuration."""
    return [s.code for s in taxonomy.load().subcategories()
            if resolve(jurisdiction, s.code).kind == "none"]


def opd_topic(jurisdiction_id: str, opd_id: str) -> str:
    """The per-OPD topic's base name (the service's topic prefix goes in front), as the
    contracts declare it."""
    return topics.opd_topic(jurisdiction_id, opd_id).base


def _category_matches(rule_category: str, subcategory: str) -> bool:
    return rule_category == subcategory or (
        "." not in rule_category and subcategory.startswith(rule_category + "."))


def _category_exists(tax: taxonomy.Taxonomy, code: str) -> bool:
    return (tax.subcategory(code) if "." in code else tax.category(code)) is not None


_KECAMATAN = re.compile(r"^(?:kecamatan|kec\.?|distrik)\s+")
_KELURAHAN = re.compile(r"^(?:kelurahan|kel\.?|desa|ds\.?|kampung)\s+")


def _same_place(wanted: str, given: str | None, prefix: re.Pattern[str]) -> bool:
    """Names compared as people write them: any case, spacing, with or without 'Kec.'."""
    if not given:
        return False
    return _place_key(wanted, prefix) == _place_key(given, prefix)


def _place_key(name: str, prefix: re.Pattern[str]) -> str:
    name = " ".join(re.sub(r"[^\w\s.]", " ", name.lower()).split())
    return prefix.sub("", name).replace(".", "").strip()


@lru_cache(maxsize=4096)
def _prepared(points: tuple[tuple[float, float], ...]) -> PreparedGeometry:
    """Each polygon prepared once (point-in-polygon is then fast), shared by equal rules."""
    return prep(_polygon(points, "polygon"))


def _polygon(points: tuple[tuple[float, float], ...], where: str) -> Polygon:
    if len(points) < 3:
        raise ValueError(f"rule for {where!r}: a polygon needs at least 3 points")
    for lon, lat in points:
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError(f"rule for {where!r}: point [{lon}, {lat}] is not [lon, lat]")
    area = Polygon(points)
    if not area.is_valid or area.area == 0:
        raise ValueError(f"rule for {where!r}: the polygon is not a valid area "
                         f"({explain_validity(area)})")
    return area
