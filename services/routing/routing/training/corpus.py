"""The labelled corpus: every line checked against the taxonomy, and a deterministic held-out
split.

The split goes by a stable hash of each example's id (SHA-256, not Python's salted `hash`):
an example's side never changes when the corpus grows or files are reordered, so a text that
was once held out never leaks into a later training run. About 20% are held out; a
subcategory whose examples all hashed into training gives up its lowest-hash one, so every
subcategory is measured.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from contracts import taxonomy as tx
from routing.domain.classifier import REPORT_TYPES, URGENCIES

HELD_OUT_PERCENT = 20
CORPUS_DIR = Path(__file__).resolve().parents[2] / "data" / "corpus"


@dataclass(frozen=True)
class Example:
    id: str
    title: str
    description: str
    subcategory: str
    report_type: str
    urgency: str

    @property
    def main_category(self) -> str:
        return self.subcategory.split(".", 1)[0]

    @property
    def bucket(self) -> int:
        return int.from_bytes(hashlib.sha256(self.id.encode()).digest()[:8], "big") % 10_000


class CorpusError(ValueError):
    """A line breaks the format; the message names the file and line."""


def load(directory: Path = CORPUS_DIR, taxonomy: tx.Taxonomy | None = None) -> list[Example]:
    """Every example, sorted by id; raises `CorpusError` on the first bad line."""
    taxonomy = taxonomy or tx.load()
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise CorpusError(f"no *.jsonl files in {directory}")
    seen: dict[str, str] = {}
    examples = []
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path.name}:{n}"
            example = _parse(line, where, taxonomy)
            if example.id in seen:
                raise CorpusError(f"{where}: id {example.id!r} already used at {seen[example.id]}")
            seen[example.id] = where
            examples.append(example)
    return sorted(examples, key=lambda e: e.id)


def _parse(line: str, where: str, taxonomy: tx.Taxonomy) -> Example:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{where}: not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise CorpusError(f"{where}: not a JSON object")
    for key in ("id", "title", "description", "subcategory", "report_type", "urgency"):
        if not isinstance(data.get(key), str):
            raise CorpusError(f"{where}: {key} must be a string")
    if not data["id"].strip() or not (data["title"].strip() or data["description"].strip()):
        raise CorpusError(f"{where}: empty id or text")
    if taxonomy.subcategory(data["subcategory"]) is None:
        raise CorpusError(f"{where}: unknown subcategory {data['subcategory']!r}")
    if data["report_type"] not in REPORT_TYPES:
        raise CorpusError(f"{where}: report_type must be one of {REPORT_TYPES}")
    if data["urgency"] not in URGENCIES:
        raise CorpusError(f"{where}: urgency must be one of {URGENCIES}")
    return Example(id=data["id"], title=data["title"], description=data["description"],
                   subcategory=data["subcategory"], report_type=data["report_type"],
                   urgency=data["urgency"])


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """(training, held out)."""
    cut = HELD_OUT_PERCENT * 100
    held = {e.id for e in examples if e.bucket < cut}
    by_class: dict[str, list[Example]] = {}
    for e in examples:
        by_class.setdefault(e.subcategory, []).append(e)
    for members in by_class.values():
        if len(members) >= 2 and not any(e.id in held for e in members):
            held.add(min(members, key=lambda e: (e.bucket, e.id)).id)
    return [e for e in examples if e.id not in held], [e for e in examples if e.id in held]


def digest(directory: Path = CORPUS_DIR) -> str:
    """What the model was built from (the corpus files' bytes)."""
    h = hashlib.sha256()
    for path in sorted(directory.glob("*.jsonl")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]
