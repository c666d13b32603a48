import asyncio
import time

import httpx
import pytest

from onward.stack import Stack
from tests.infra import TEST_RUN

PORTS = {"school_exit": 18001, "la_tracker": 18002, "ncs_referral": 18003}


@pytest.fixture(scope="session")
def stack(infra, databases):
    # Two replicas of every stream worker: all e2e tests run with partitions shared in each group.
    st = Stack(TEST_RUN / "stack", databases, infra.kafka, ports=PORTS, worker_replicas=2,
               env={"ONWARD_LOG_LEVEL": "INFO", "ONWARD_SWEEP_INTERVAL_SECONDS": "1"})
    st.down()  # processes left by an interrupted session
    try:
        st.up(timeout=120)
    except RuntimeError:
        st.down()
        raise
    yield st
    st.down()


@pytest.fixture(scope="session")
def urls(stack):
    return {name: f"http://127.0.0.1:{port}" for name, port in PORTS.items()}


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def eventually(probe, timeout: float = 15, interval: float = 0.02):
    """Poll `probe` (async, returns a value or None) until it gives a value; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)
