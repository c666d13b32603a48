"""A stream worker with nothing to do sleeps (onward/take.py): faust's own noack_take woke every 5 ms
per agent and cost an idle worker 0.08-0.1 of a core, CPU a busy machine needs for Postgres."""
import asyncio
import os
from pathlib import Path


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def test_an_idle_stream_worker_uses_almost_no_cpu(stack):
    pid = stack.pid("ncs_referral", "worker")  # its topics are quiet unless a test refers someone
    windows = []
    for _ in range(4):  # the quietest of four 2 s windows: another test's events may still be arriving
        before = _cpu_seconds(pid)
        await asyncio.sleep(2)
        windows.append((_cpu_seconds(pid) - before) / 2)
    assert min(windows) < 0.04, f"an idle worker used {min(windows):.3f} of a core (faust's polling take: ~0.08)"
