"""`make chaos`: Jepsen-style lost-write check. Leavers go in from concurrent clients while processes
are killed with SIGKILL and restarted; then every accepted leaver is checked against its expected end
state: exactly one case where the rules open one, exactly one referral where they refer, none elsewhere,
every outbox row published. Prints one JSON line; exits 0 only when lost and duplicates are both 0.

Runs its own Kafka (127.0.0.1:39092) and PostgreSQL (127.0.0.1:35544) under .run/chaos, so it can
kill and restart them without touching `make up`. Bounded in time; loopback only; stops by itself.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import time
from datetime import date
from pathlib import Path

import asyncpg
import httpx

from bench.expected import expected
from onward.auth import issue_token
from onward.cohort import cohort
from onward.db import local_server_url
from onward.kafka_admin import consumer_lag
from onward.person_key import person_key
from onward.processes import prepare
from onward.settings import Settings
from onward.stack import Stack
from schemas.events import (CaseStatusChanged, DestinationReported, LeaverRegistered, ReferralOutcomeRecorded,
                            ReferralRequested, ReferralWithdrawn)
from schemas.topics import LEAVER_SUBMITTED

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / ".run" / "chaos"
KAFKA_PORT, PG_PORT = 39092, 35544
PORTS = {"school_exit": 38001, "la_tracker": 38002, "ncs_referral": 38003}
LOCAL = ROOT / "deploy" / "local"


def script(name: str, *args: str) -> None:
    subprocess.run([str(LOCAL / name), *args], check=True, stdout=subprocess.DEVNULL)


class Controller:
    def __init__(self, stack: Stack, rng: random.Random) -> None:
        self.stack, self.rng = stack, rng
        self.kills: list[str] = []
        self.stopped = False
        self._victims: list[tuple[str, str]] = []

    async def supervise(self) -> None:
        """Restart any service process that is not running (what systemd or Kubernetes would do)."""
        while not self.stopped:
            for name, process in self.stack.names():
                if not self.stack.alive(name, process):
                    self.stack.start(name, process)
            await asyncio.sleep(0.5)

    async def kill_service_processes(self, count: int, every: float) -> None:
        """SIGKILL `count` processes, cycling through all of them in a shuffled order so each dies."""
        for _ in range(count):
            await asyncio.sleep(every * self.rng.uniform(0.5, 1.5))
            if not self._victims:
                self._victims = self.stack.names()
                self.rng.shuffle(self._victims)
            name, process = self._victims.pop()
            self.stack.kill(name, process, signal.SIGKILL)
            self.kills.append(f"{name}.{process}")

    async def kill_kafka(self) -> None:
        pid = int((RUN / "kafka" / "kafka.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        self.kills.append("kafka")
        await asyncio.sleep(3)
        await asyncio.to_thread(script, "kafka.sh", "start", str(RUN / "kafka"), str(KAFKA_PORT))

    async def restart_postgres(self) -> None:
        await asyncio.to_thread(script, "postgres.sh", "stop", str(RUN / "postgres"))
        self.kills.append("postgres")
        await asyncio.sleep(2)
        await asyncio.to_thread(script, "postgres.sh", "start", str(RUN / "postgres"), str(PG_PORT))


async def submit(leavers: list[dict], clients: int, token: dict, deadline: float) -> set[str]:
    """Batches of 200 from `clients` clients; a batch is resent until answered (resends are idempotent)."""
    accepted: set[str] = set()
    queue = [leavers[i:i + 200] for i in range(0, len(leavers), 200)]
    url = f"http://127.0.0.1:{PORTS['school_exit']}/v1/leavers/batch"

    async def client(http: httpx.AsyncClient) -> None:
        while queue and time.monotonic() < deadline:
            chunk = queue.pop()
            while time.monotonic() < deadline:
                try:
                    r = await http.post(url, json={"leavers": chunk}, headers=token, timeout=30)
                    if r.status_code == 207:  # a 503 (database restarting) or a dead API: retry
                        accepted.update(x["person_key"] for x in r.json()["results"] if x["result"] != "rejected")
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.5)

    async with httpx.AsyncClient() as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return accepted


CONSUMED = {"onward-school_exit": [CaseStatusChanged.TOPIC, LEAVER_SUBMITTED],
            "onward-la_tracker": [LeaverRegistered.TOPIC, DestinationReported.TOPIC, ReferralOutcomeRecorded.TOPIC],
            "onward-ncs_referral": [ReferralRequested.TOPIC, ReferralWithdrawn.TOPIC]}


async def settle(urls: dict, kafka: str, timeout: float) -> float:
    """Until every outbox is published, every consumer group has no lag, and nothing moved for 10 s."""
    started, last, quiet_since = time.monotonic(), None, time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            state = []
            for url in urls.values():
                conn = await asyncpg.connect(url)
                try:
                    state.append(await conn.fetchval("select count(*) from outbox where published_at is null"))
                    state.append(await conn.fetchval("select count(*) from processed_events"))
                finally:
                    await conn.close()
            lag = sum([await consumer_lag(kafka, group, topics) for group, topics in CONSUMED.items()])
        except Exception:  # the database or broker is still coming back
            state, lag = None, None
        if state and lag == 0 and state == last and sum(state[0::2]) == 0 and time.monotonic() - quiet_since >= 10:
            return time.monotonic() - started
        if state != last:
            last, quiet_since = state, time.monotonic()
        await asyncio.sleep(1)
    raise RuntimeError(f"did not settle within {timeout} s")


async def check(urls: dict, leavers: list[dict], accepted: set[str]) -> dict:
    secret = Settings().person_key_secret.get_secret_value()
    mine = [lv for lv in leavers if person_key(secret, lv["upn"]) in accepted]
    want_case, want_ref = expected(mine, date.today())
    la, ncs = await asyncpg.connect(urls["la_tracker"]), await asyncpg.connect(urls["ncs_referral"])
    try:
        cases = {r["person_key"]: r["n"] for r in await la.fetch(
            "select person_key, count(*) n from cases group by person_key")}
        refs = {r["person_key"]: r["n"] for r in await ncs.fetch(
            "select person_key, count(*) n from referrals group by person_key")}
    finally:
        await la.close()
        await ncs.close()
    lost = dup = 0
    for key in accepted:
        for have, want in ((cases.get(key, 0), key in want_case), (refs.get(key, 0), key in want_ref)):
            lost += int(want and have == 0)
            dup += int(have > 1 or (have and not want))
    return {"lost": lost, "duplicates": dup, "expected_cases": len(want_case), "expected_referrals": len(want_ref)}


async def main(args) -> dict:
    settings = Settings()
    rng = random.Random(args.seed)
    script("kafka.sh", "stop", str(RUN / "kafka"))
    shutil.rmtree(RUN / "kafka", ignore_errors=True)
    script("postgres.sh", "start", str(RUN / "postgres"), str(PG_PORT))
    script("kafka.sh", "start", str(RUN / "kafka"), str(KAFKA_PORT))
    pg, kafka = local_server_url(RUN / "postgres", PG_PORT), f"127.0.0.1:{KAFKA_PORT}"
    prefix = f"chaos{int(time.time())}"
    urls = await prepare(pg, kafka, settings.topic_partitions, prefix=prefix)
    stack = Stack(RUN / "stack", urls, kafka, ports=PORTS, env={"ONWARD_LOG_LEVEL": "WARNING"})
    stack.down()
    stack.up(timeout=120)
    token = {"Authorization": "Bearer " + issue_token(settings.jwt_secret.get_secret_value(), role="admin", sub="chaos")}
    leavers = cohort(args.leavers, seed=args.seed, first_serial=rng.randrange(1, 1_000_000))
    ctl = Controller(stack, rng)
    supervisor = asyncio.create_task(ctl.supervise())
    deadline = time.monotonic() + args.max_seconds
    try:
        submitting = asyncio.create_task(submit(leavers, args.clients, token, deadline))
        every = max(2.0, args.leavers / 250 / (args.kills + 2))  # spread the kills over the expected intake time
        await ctl.kill_service_processes(args.kills // 2, every)
        await ctl.kill_kafka()
        await ctl.kill_service_processes(args.kills - args.kills // 2, every)
        await ctl.restart_postgres()
        accepted = await submitting
        settle_s = await settle(urls, kafka, max(120.0, deadline - time.monotonic()))
        result = await check(urls, leavers, accepted)
    finally:
        ctl.stopped = True
        supervisor.cancel()
        stack.down()
        script("kafka.sh", "stop", str(RUN / "kafka"))
        script("postgres.sh", "stop", str(RUN / "postgres"))
    return {"events": len(accepted), "submitted": len(leavers), "kills": len(ctl.kills),
            "killed": sorted(set(ctl.kills)), **result, "settle_s": round(settle_s, 1)}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--leavers", type=int, default=int(os.environ.get("CHAOS_LEAVERS", 50_000)))
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--kills", type=int, default=12)
    p.add_argument("--max-seconds", type=float, default=3000)
    p.add_argument("--seed", type=int, default=7)
    res = asyncio.run(main(p.parse_args()))
    print(json.dumps(res))
    raise SystemExit(0 if res["lost"] == 0 and res["duplicates"] == 0 else 1)
