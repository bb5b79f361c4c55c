"""`python -m intake.open311.keys create --name <front end>`: issue an Open311 API key from a
shell (what `make run` does for its demo key), next to the operators' `POST /v1/api-keys`.
Reads DATABASE_URL and DB_SCHEMA as intake does; intake must have migrated the schema."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import datetime, timezone

from backbone.db import connect
from intake.adapters.open311 import PgOpen311Store
from intake.api_keys_api import new_key


async def create(dsn: str, schema: str, name: str) -> str:
    conn = await connect(dsn, schema, "intake-open311-keys")
    try:
        key, secret = new_key(name, datetime.now(timezone.utc))
        await PgOpen311Store(conn).add_key(key)
        return secret
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m intake.open311.keys")
    parser.add_argument("command", choices=["create"])
    parser.add_argument("--name", required=True, help="the front end, e.g. fixmystreet-kota")
    args = parser.parse_args(argv)
    dsn, schema = os.environ.get("DATABASE_URL"), os.environ.get("DB_SCHEMA", "intake")
    if not dsn:
        print("set DATABASE_URL (and DB_SCHEMA) as for intake", file=sys.stderr)
        return 2
    print(asyncio.run(create(dsn, schema, args.name)))   # the key, shown this once
    return 0


if __name__ == "__main__":
    sys.exit(main())
