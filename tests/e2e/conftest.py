import asyncio
import time

import httpx
import pytest

from onward.stack import Stack
from tests.infra import PORT_OFFSET, TEST_RUN

PORTS = {"school_exit": 18001 + PORT_OFFSET, "la_tracker": 18002 + PORT_OFFSET, "ncs_referral": 18003 + PORT_OFFSET}
# Every e2e test calls from 127.0.0.1, many of them signing in, exporting or sending bad tokens on purpose:
# the shared stack lifts the rate limits (tests/e2e/test_security_hardening.py checks them on its own app).
UNTHROTTLED = {name: "1000000" for name in (
    "ONWARD_RATE_SIGN_IN_PER_CLIENT", "ONWARD_RATE_SIGN_IN_PER_ACCOUNT", "ONWARD_RATE_FAILED_TOKENS_PER_CLIENT",
    "ONWARD_RATE_EXPORTS_PER_CLIENT", "ONWARD_RATE_EXPORTS_PER_ACCOUNT")}


@pytest.fixture(scope="session")
def stack(infra, databases):
    # Two replicas of every stream worker: all e2e tests run with partitions shared in each group.
    st = Stack(TEST_RUN / "stack", databases, infra.kafka, ports=PORTS, worker_replicas=2,
               env={"ONWARD_LOG_LEVEL": "INFO", "ONWARD_SWEEP_INTERVAL_SECONDS": "1",
                    "ONWARD_NCCIS_DATABASE_IDS": "873:456", **UNTHROTTLED,
                    "ONWARD_PUBLIC_URL": f"http://127.0.0.1:{PORTS['la_tracker']}"})
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


async def tenant_a_objects(urls, tokens) -> dict:
    """One leaver of school A (Derby, 8314001), its case in LA A (831) and its referral in NCS area A
    (East Midlands): the objects the tenancy tests ask other tenants about."""
    from tests.e2e.leavers import leaver

    body = leaver()
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(f"{urls['school_exit']}/v1/leavers", json=body, headers=tokens("school", laestab="8314001"))
        pkey, leaver_id = r.json()["person_key"], r.json()["leaver_id"]
        admin = tokens("admin")

        async def found():
            c = (await http.get(f"{urls['la_tracker']}/v1/cases", params={"person_key": pkey}, headers=admin)).json()
            n = (await http.get(f"{urls['ncs_referral']}/v1/referrals", params={"person_key": pkey}, headers=admin)).json()
            return (c["items"][0]["case_id"], n["items"][0]["referral_id"]) if c["items"] and n["items"] else None
        case_id, referral_id = await eventually(found)
    return {"leaver_id": leaver_id, "case_id": case_id, "referral_id": referral_id, "person_key": pkey,
            "family_name": body["family_name"]}
