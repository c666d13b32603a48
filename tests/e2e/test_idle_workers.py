"""A stream worker with nothing to do sleeps (onward/take.py): faust's own noack_take woke every 5 ms
per agent and cost an idle worker 0.08-0.1 of a core, CPU a busy machine needs for Postgres."""
import asyncio
import os
import time
from pathlib import Path

from tests.e2e.conftest import eventually


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def test_an_idle_stream_worker_uses_almost_no_cpu(stack):
    """Waits for a quiet 2 s window of the worker's own CPU time (another test's events may still be
    arriving; a loaded machine delays the window but does not add to the worker's CPU). With faust's
    polling take no window is ever quiet: it spends ~0.08 of a core doing nothing."""
    pid = stack.pid("ncs_referral", "worker")  # its topics are quiet unless a test refers someone
    windows = []

    async def quiet_window():
        before, started = _cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(2)  # the measurement window, not a wait for something to happen
        windows.append((_cpu_seconds(pid) - before) / (time.monotonic() - started))
        return windows[-1] < 0.04
    try:
        await eventually(quiet_window, timeout=90, interval=0)
    except AssertionError:
        raise AssertionError(f"no quiet window: an idle worker used at least {min(windows):.3f} of a core") from None
