"""Where the end-to-end phase's CPU goes (`python -m bench.run --profile DIR`): for finding costs, not a figure.

- CPU seconds of every stack process and of PostgreSQL (the postmaster and all its backends, the exited
  ones included), per 1,000 leavers: a figure that a busy 2-core machine disturbs far less than wall time;
- `pg_stat_statements` (when the server preloads it: PG_OPTS="-c shared_preload_libraries=pg_stat_statements"
  make infra), reset at the start of the phase, the top statements by time at its end;
- `py-spy record` of the la_tracker worker over the phase, as collapsed stacks (when py-spy is installed
  in the venv; it is not a dependency of the project).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg

_TOP = """
select d.datname db, s.calls, round(s.total_exec_time) total_ms, round(s.mean_exec_time::numeric, 3) mean_ms, s.rows,
       left(regexp_replace(s.query, '\\s+', ' ', 'g'), 220) query
from pg_stat_statements s join pg_database d on d.oid = s.dbid
order by s.total_exec_time desc limit 40
"""


def _ticks(pid: int) -> tuple[int, int, int]:
    """(ppid, own CPU ticks, reaped children's CPU ticks) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


async def postmaster(pg_url: str) -> int:
    """The pid of the PostgreSQL server behind `pg_url` (the parent of a backend's process)."""
    conn = await asyncpg.connect(pg_url)
    try:
        return _ticks(await conn.fetchval("select pg_backend_pid()"))[0]
    finally:
        await conn.close()


def postgres_cpu(pid: int) -> float:
    """CPU seconds used so far by the PostgreSQL server `pid`: the postmaster, its live backends and the
    backends that have exited (counted in the postmaster's children's time)."""
    _, own, reaped = _ticks(pid)
    total = own + reaped
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid, ticks, _ = _ticks(int(entry.name))
            except (OSError, ValueError):
                continue
            if ppid == pid:
                total += ticks
    return total / os.sysconf("SC_CLK_TCK")


class Profile:
    def __init__(self, out: Path, pg_url: str, worker_pid: int | None):
        self.out, self.pg_url, self.worker_pid, self.spy = out, pg_url, worker_pid, None
        out.mkdir(parents=True, exist_ok=True)

    async def start(self) -> None:
        conn = await asyncpg.connect(self.pg_url)
        try:
            await conn.execute("create extension if not exists pg_stat_statements")
            await conn.execute("select pg_stat_statements_reset()")
        except asyncpg.PostgresError as exc:
            print(f"profile: no pg_stat_statements ({exc})", file=sys.stderr)
        finally:
            await conn.close()
        spy = Path(sys.executable).parent / "py-spy"
        if spy.exists() and self.worker_pid:
            self.spy = subprocess.Popen([str(spy), "record", "-p", str(self.worker_pid), "-r", "50", "--format", "raw",
                                         "-o", str(self.out / "la_tracker.worker.txt")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def stop(self, cpu_seconds: dict[str, float], leavers: int) -> None:
        if self.spy:
            self.spy.send_signal(signal.SIGINT)
            self.spy.wait(timeout=60)
        lines = [f"{k}\t{v:.1f} s\t{v * 1000 / leavers:.2f} s per 1,000 leavers" for k, v in cpu_seconds.items()]
        conn = await asyncpg.connect(self.pg_url)
        try:
            for r in await conn.fetch(_TOP):
                lines.append("\t".join(str(r[k]) for k in ("db", "calls", "total_ms", "mean_ms", "rows", "query")))
        except asyncpg.PostgresError:
            pass
        finally:
            await conn.close()
        (self.out / "cpu_and_statements.tsv").write_text("\n".join(lines) + "\n")
