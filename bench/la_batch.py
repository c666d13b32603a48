"""la_tracker's set-based path on its own: N synthetic reports of new young people through
`register_new_people` in batches of 300, against a fresh database on the local Postgres.

    .venv/bin/python -m bench.la_batch [N]      (make up first: it uses the Postgres on 5544)
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import asyncpg

from onward.cohort import cohort
from onward.db import drop_database, ensure_database, local_server_url, migrate
from onward.person_key import person_key
from onward.processes import SERVICES
from onward.settings import Settings
from services.la_tracker import batch
from services.school_exit.handlers import _event
from services.school_exit.wire import LeaverIn


async def main(n: int) -> None:
    pg = os.environ.get("ONWARD_PG_URL") or local_server_url(Path(__file__).resolve().parent.parent / ".run" / "postgres",
                                                              5544)
    name = f"labatch{uuid.uuid4().hex[:6]}"
    url = await ensure_database(pg, name)
    await migrate(url, SERVICES["la_tracker"].migrations)
    secret = Settings().person_key_secret.get_secret_value()
    events = [_event(LeaverIn.model_validate(b), uuid.uuid4(), person_key(secret, b["upn"]), 1, uuid.uuid4())
              for b in cohort(n, seed=2026)]
    conn = await asyncpg.connect(url)
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    try:
        started, left = time.perf_counter(), 0
        for i in range(0, n, 300):
            async with conn.transaction():
                left += len(await batch.register_new_people(conn, events[i:i + 300], today=date.today()))
        seconds = time.perf_counter() - started
        print(json.dumps({"reports": n, "left_to_per_report_path": left, "seconds": round(seconds, 2),
                          "reports_per_s": round(n / seconds)}))
    finally:
        await conn.close()
        await drop_database(pg, name)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))
