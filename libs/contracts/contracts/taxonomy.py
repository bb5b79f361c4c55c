"""The complaint taxonomy: LAPOR!'s two levels, main categories and their subcategories.

One shared list, so front ends (Open311 `services`), intake (a complaint's `category` holds a
subcategory code) and routing agree on what a category is. The data lives in `taxonomy.json`
next to this module; a subcategory may ask extra questions (`attributes`), typed as Open311
GeoReport v2 attributes (string, number, datetime, text, singlevaluelist, multivaluelist).

Codes are stable, lower-case, `<main>.<sub>` (e.g. `pupr.jalan-rusak`): a code is never reused
for another meaning, names may be reworded. Jurisdictions will later grow their own lists in the
routing service; this one is the national baseline every jurisdiction starts from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

Datatype = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
DATATYPES: tuple[str, ...] = ("string", "number", "datetime", "text", "singlevaluelist",
                              "multivaluelist")
_CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Choice:
    key: str
    name: str


@dataclass(frozen=True)
class Attribute:
    """One extra question a subcategory asks (an Open311 attribute with `variable` true)."""

    code: str
    description: str
    datatype: Datatype
    required: bool
    order: int
    datatype_description: str | None = None
    values: tuple[Choice, ...] = ()

    @property
    def is_list(self) -> bool:
        return self.datatype in ("singlevaluelist", "multivaluelist")


@dataclass(frozen=True)
class Subcategory:
    code: str                 # `<main>.<sub>`: the Open311 service_code, the complaint's category
    name: str
    description: str
    keywords: tuple[str, ...]
    attributes: tuple[Attribute, ...]
    group: str                # the main category's name

    @property
    def main_code(self) -> str:
        return self.code.split(".", 1)[0]


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    description: str
    subcategories: tuple[Subcategory, ...]


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[Category, ...]

    def subcategories(self) -> list[Subcategory]:
        return [s for c in self.categories for s in c.subcategories]

    def subcategory(self, code: str) -> Subcategory | None:
        return self._index().get(code)

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def _index(self) -> dict[str, Subcategory]:
        index = self.__dict__.get("_by_code")
        if index is None:
            index = {s.code: s for s in self.subcategories()}
            object.__setattr__(self, "_by_code", index)
        return index


class TaxonomyError(ValueError):
    """The data file breaks a rule (duplicate code, unknown datatype, list without values)."""


def parse(data: dict) -> Taxonomy:
    """A taxonomy from its JSON shape, checked: unique well-formed codes, known datatypes,
    list attributes with values."""
    seen: set[str] = set()
    categories = []
    for c in data["categories"]:
        if not _CODE.match(c["code"]) or c["code"] in seen:
            raise TaxonomyError(f"bad or duplicate category code {c['code']!r}")
        seen.add(c["code"])
        subs = []
        for s in c["subcategories"]:
            main, _, rest = s["code"].partition(".")
            if main != c["code"] or not _CODE.match(rest) or s["code"] in seen:
                raise TaxonomyError(f"bad or duplicate subcategory code {s['code']!r}")
            seen.add(s["code"])
            attrs = tuple(_attribute(s["code"], a) for a in s.get("attributes", ()))
            if len({a.code for a in attrs}) != len(attrs):
                raise TaxonomyError(f"{s['code']}: duplicate attribute codes")
            subs.append(Subcategory(
                code=s["code"], name=s["name"], description=s.get("description", ""),
                keywords=tuple(s.get("keywords", ())), group=c["name"],
                attributes=tuple(sorted(attrs, key=lambda a: a.order))))
        categories.append(Category(code=c["code"], name=c["name"],
                                   description=c.get("description", ""), subcategories=tuple(subs)))
    return Taxonomy(categories=tuple(categories))


def _attribute(where: str, a: dict) -> Attribute:
    if a["datatype"] not in DATATYPES:
        raise TaxonomyError(f"{where}/{a['code']}: unknown datatype {a['datatype']!r}")
    if not _CODE.match(a["code"]):
        raise TaxonomyError(f"{where}: bad attribute code {a['code']!r}")
    values = tuple(Choice(key=v["key"], name=v["name"]) for v in a.get("values", ()))
    if a["datatype"] in ("singlevaluelist", "multivaluelist") and not values:
        raise TaxonomyError(f"{where}/{a['code']}: a list attribute needs values")
    return Attribute(code=a["code"], description=a["description"], datatype=a["datatype"],
                     required=bool(a.get("required", False)), order=int(a.get("order", 0)),
                     datatype_description=a.get("datatype_description"), values=values)


@lru_cache(maxsize=1)
def load() -> Taxonomy:
    """The packaged national taxonomy (read once)."""
    text = resources.files("contracts").joinpath("taxonomy.json").read_text(encoding="utf-8")
    return parse(json.loads(text))
