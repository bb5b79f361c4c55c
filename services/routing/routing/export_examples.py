"""`python -m routing.export_examples [--since 2026-01-01] [--out FILE]`: what people taught
routing (operators' disposals and OPDs' "bukan wewenang"), as JSON lines for the next training
run, read from routing's own schema with its usual settings (DATABASE_URL, DB_SCHEMA).

Each line: `{"id": "learned-<tracking number>-<opd>", "title", "description", "jurisdiction",
"opd_id", "positive", "source", "recorded_at"}`. The text is what the citizen wrote, without
identity (routing never receives any); review the file before adding it to the corpus.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime, timezone

import asyncpg

from backbone.settings import load_settings
from routing.adapters.labelled_examples import PgLabelledExamples
from routing.config import RoutingSettings


async def export(since: datetime, out) -> int:
    settings = load_settings(RoutingSettings)
    conn = await asyncpg.connect(settings.database_url,
                                 server_settings={"search_path": settings.schema_name})
    try:
        examples = await PgLabelledExamples(conn).since(since, limit=1_000_000)
    finally:
        await conn.close()
    for e in examples:
        out.write(json.dumps({
            "id": f"learned-{e.tracking_number}-{e.opd_id}-{'pos' if e.positive else 'neg'}",
            "title": e.title, "description": e.description, "jurisdiction": e.jurisdiction,
            "opd_id": e.opd_id, "positive": e.positive, "source": e.source,
            "recorded_at": e.recorded_at.isoformat()}, ensure_ascii=False) + "\n")
    return len(examples)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m routing.export_examples", description=__doc__.splitlines()[0])
    parser.add_argument("--since", type=datetime.fromisoformat, default=datetime(2000, 1, 1))
    parser.add_argument("--out", type=argparse.FileType("w", encoding="utf-8"), default=sys.stdout)
    args = parser.parse_args()
    since = args.since if args.since.tzinfo else args.since.replace(tzinfo=timezone.utc)
    count = asyncio.run(export(since, args.out))
    print(f"{count} labelled examples", file=sys.stderr)


if __name__ == "__main__":
    main()
