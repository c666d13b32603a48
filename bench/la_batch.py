"""la_tracker's set-based path on its own: N synthetic reports of new young people through
`register_new_people` in batches of 300, against a fresh database on the local Postgres.

    .venv/bin/python -m bench.la_batch [N [BATCH]]      (make up first: it uses the Postgres on 5544)

Prints wall seconds and, less disturbed by a busy machine, the CPU seconds per 1,000 reports of this
process and of its database backend.
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


async def main(n: int, size: int = 300) -> None:
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
        backend = await conn.fetchval("select pg_backend_pid()")
        started, cpu, pg_cpu, left = time.perf_counter(), time.process_time(), _ticks(backend), 0
        for i in range(0, n, size):
            async with conn.transaction():
                left += len(await batch.register_new_people(conn, events[i:i + size], today=date.today()))
        seconds = time.perf_counter() - started
        per_1000 = 1000 / n
        print(json.dumps({"reports": n, "batch": size, "left_to_per_report_path": left, "seconds": round(seconds, 2),
                          "reports_per_s": round(n / seconds),
                          "python_cpu_s_per_1000": round((time.process_time() - cpu) * per_1000, 3),
                          "postgres_cpu_s_per_1000": round((_ticks(backend) - pg_cpu) * per_1000, 3)}))
    finally:
        await conn.close()
        await drop_database(pg, name)


def _ticks(pid: int) -> float:
    """CPU seconds used so far by a local process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    asyncio.run(main(*(int(a) for a in sys.argv[1:3])) if len(sys.argv) > 1 else main(10_000))
