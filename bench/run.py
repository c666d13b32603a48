"""`make bench`: Onward end to end beside a raw-Kafka baseline on the same broker, in one run.

Starts its own stack (fresh databases, ports 28001-28003) on the local broker and Postgres, then:
1. baseline: aiokafka producing and consuming messages of LeaverRegistered's size, acks=all, idempotent;
2. end to end: a synthetic cohort through the batch API from concurrent clients until every expected
   case and referral is committed (expected counts come from the routing rules themselves);
3. handoff latency (202 at school_exit to the referral committed in ncs_referral) for probe leavers
   under a steady background load, in an HDR histogram;
4. peak RSS and CPU of every process;
5. the time to produce an LA's NCCIS return for 10,000 young people, and to check it (bench/nccis_return.py).
Writes bench/results/latest.json and latest.png, and the table in docs/performance.md.
"""
from __future__ import annotations

import argparse
import sys
import asyncio
import json
import os
import time
import uuid
from datetime import date
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from hdrh.histogram import HdrHistogram

from bench.expected import expected
from bench import big_la
from onward.auth import issue_token
from onward.cohort import cohort
from onward.db import drop_service_database, local_server_url
from onward.person_key import person_key
from onward.processes import SERVICES, prepare
from onward.settings import Settings
from onward.stack import Stack
from bench import nccis_return
from bench.profile import Profile, postgres_cpu, postmaster
from bench.you_probe import help_to_referral

ROOT = Path(__file__).resolve().parent.parent
PORTS = {"school_exit": 28001, "la_tracker": 28002, "ncs_referral": 28003}
# The development mailbox stands in for GOV.UK Notify, so it sends at Notify's pace: Onward's budget of
# 2,500 of Notify's 3,000 messages a minute (onward/notify.py). Unpaced, a 100,000 cohort's ~60,000
# messages competed with the intake for the same two cores (docs/performance.md, session 5).
NOTIFY_BUDGET = 2500


async def baseline(bootstrap: str, n: int, size: int) -> float:
    topic = f"bench.baseline.{uuid.uuid4().hex[:6]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 6, 1)])
    await admin.close()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=topic, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2)
    await producer.start()
    payload = os.urandom(size // 2).hex().encode()
    started = time.monotonic()

    async def produce():
        for i in range(n):
            await producer.send(topic, payload, key=f"{i:064x}".encode())
        await producer.flush()

    task = asyncio.create_task(produce())
    got = 0
    while got < n:
        for records in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
            got += len(records)
        await consumer.commit()
    elapsed = time.monotonic() - started
    await task
    await producer.stop()
    await consumer.stop()
    return n / elapsed


async def submit(http: httpx.AsyncClient, leavers: list[dict], clients: int, token: dict, batch: int = 1000) -> None:
    chunks = [leavers[i:i + batch] for i in range(0, len(leavers), batch)]
    queue: asyncio.Queue = asyncio.Queue()
    for c in chunks:
        queue.put_nowait(c)

    async def client():
        while not queue.empty():
            chunk = queue.get_nowait()
            r = await http.post(f"http://127.0.0.1:{PORTS['school_exit']}/v1/leavers/batch", json={"leavers": chunk},
                                headers=token, timeout=120)
            assert r.status_code == 207 and r.json()["rejected"] == 0, r.text[:500]

    await asyncio.gather(*(client() for _ in range(clients)))


async def wait_for(urls: dict, cases: set[str], referrals: set[str], timeout: float) -> None:
    """Until every expected case and referral is committed. Counting rows is cheap; looking up every
    expected key is not (it competed with the system measured), so that is done only once the counts
    say it can succeed, and then only for the keys not yet seen."""
    la, ncs = await asyncpg.connect(urls["la_tracker"]), await asyncpg.connect(urls["ncs_referral"])
    want = {"cases": (la, set(cases)), "referrals": (ncs, set(referrals))}
    deadline = time.monotonic() + timeout
    last, stalled_since = None, time.monotonic()
    try:
        while time.monotonic() < deadline and time.monotonic() - stalled_since < 60:
            counts = {t: await conn.fetchval(f"select count(*) from {t}") for t, (conn, _) in want.items()}
            if all(counts[t] >= len(keys) for t, (_, keys) in want.items()):
                for t, (conn, keys) in want.items():
                    keys -= {r[0] for r in await conn.fetch(f"select person_key from {t} where person_key = any($1)",
                                                            list(keys))}
                if not any(keys for _, keys in want.values()):
                    return
            if counts != last:
                last, stalled_since = counts, time.monotonic()
            await asyncio.sleep(0.25)
        raise RuntimeError(f"not settled (no progress for 60 s or {timeout} s in all): committed {last},"
                           f" expected cases {len(cases)}, referrals {len(referrals)}")
    finally:
        await la.close()
        await ncs.close()


def always_referred(leavers: list[dict]) -> list[dict]:
    """The same people with no destination, consent given and nothing that delays a referral."""
    return [lv | {"destination": None, "consent": {"share_with_ncs": True, "objects_to_sharing": False},
                  "send": {"ehcp": False, "sen_support": False}, "characteristics": []} for lv in leavers]


async def warm_up(urls: dict, http: httpx.AsyncClient, token: dict, leavers: list[dict], timeout: float = 120) -> float:
    """Send a few leavers through all three services and wait for their referrals; return the seconds.

    A fresh stack's stream workers first join their consumer groups and connect to their databases.
    That is start-up, not throughput, so it is measured and reported (`stack_ready_s`, about 2 s
    here) but kept out of the end-to-end clock."""
    started = time.monotonic()
    r = await http.post(f"http://127.0.0.1:{PORTS['school_exit']}/v1/leavers/batch",
                        json={"leavers": always_referred(leavers)}, headers=token, timeout=60)
    assert r.status_code == 207 and r.json()["rejected"] == 0, r.text[:500]
    secret = Settings().person_key_secret.get_secret_value()
    keys = list({person_key(secret, lv["upn"]) for lv in leavers})  # a leaver reported twice is one person
    conn = await asyncpg.connect(urls["ncs_referral"])
    try:
        while await conn.fetchval("select count(*) from referrals where person_key = any($1)", keys) < len(keys):
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"the stack did not refer {len(keys)} warm-up leavers within {timeout} s")
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    return time.monotonic() - started


async def latency(urls: dict, http: httpx.AsyncClient, token: dict, rate: int, seconds: float,
                  background: list[dict], probes: list[dict]) -> tuple[HdrHistogram, int]:
    """Probe leavers (always referred) every 250 ms while background leavers arrive at `rate` a second.

    One poller watches every pending probe's referral (one connection, every 5 ms); a probe not
    referred within 30 s of the end is counted as missing, never waited for forever."""
    hist = HdrHistogram(1, 60_000, 3)
    probes = always_referred(probes)
    secret = Settings().person_key_secret.get_secret_value()
    pending: dict[str, float] = {}
    stop = time.monotonic() + seconds
    url = f"http://127.0.0.1:{PORTS['school_exit']}/v1/leavers"

    async def load():
        i, tick = 0, time.monotonic()
        while time.monotonic() < stop:
            chunk = background[i:i + rate // 10]
            i += len(chunk)
            await http.post(url + "/batch", json={"leavers": chunk}, headers=token, timeout=30)
            tick += 0.1
            await asyncio.sleep(max(0.0, tick - time.monotonic()))

    async def probe():
        for lv in probes:
            if time.monotonic() >= stop:
                return
            started = time.monotonic()
            r = await http.post(url, json=lv, headers=token, timeout=30)
            if r.status_code == 202:
                pending[person_key(secret, lv["upn"])] = started
            await asyncio.sleep(max(0.0, 0.25 - (time.monotonic() - started)))

    async def poll():
        conn = await asyncpg.connect(urls["ncs_referral"])
        try:
            while time.monotonic() < stop + 30 and (pending or time.monotonic() < stop):
                if pending:
                    for row in await conn.fetch("select person_key from referrals where person_key = any($1)",
                                                list(pending)):
                        hist.record_value(max(1, int((time.monotonic() - pending.pop(row["person_key"])) * 1000)))
                await asyncio.sleep(0.005)
        finally:
            await conn.close()

    await asyncio.gather(load(), probe(), poll())
    return hist, len(pending)


IMPORT_ROWS, IMPORT_SCHOOL = 5000, "8314001"


async def file_imports(http: httpx.AsyncClient, base: str, token: dict, leavers: list[dict]) -> dict:
    """Seconds for school_exit to take a 5,000-row CSV and a 5,000-pupil CTF, laid out as spreadsheets and
    MIS write them (tests/school_files.py), from upload to the per-row results (issue 15: under 10 s each).
    Needs 2 x IMPORT_ROWS leavers that the stack has not seen."""
    from tests.school_files import csv_file, ctf

    own = [lv | {"school_laestab": IMPORT_SCHOOL} for lv in leavers[:2 * IMPORT_ROWS]]
    out = {}
    for kind, data in (("csv", csv_file(own[:IMPORT_ROWS])), ("ctf", ctf(own[IMPORT_ROWS:], IMPORT_SCHOOL))):
        started = time.monotonic()
        r = await http.post(f"{base}/v1/leavers/import", files={"file": (f"leavers.{kind}", data)},
                            data={"school_laestab": IMPORT_SCHOOL}, headers=token, timeout=300)
        r.raise_for_status()
        out[f"import_{kind}_{IMPORT_ROWS}_s"] = round(time.monotonic() - started, 2)
        out[f"import_{kind}_{IMPORT_ROWS}_accepted"] = r.json()["accepted"]
    return out


def _proc(pid: int) -> tuple[float, float]:
    """(peak RSS MB, CPU seconds) of a live process."""
    status = Path(f"/proc/{pid}/status").read_text()
    hwm = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return hwm / 1024, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def processes(stack: Stack) -> dict[str, int]:
    pids = {f"{n}.{p}": stack.pid(n, p) for n, p in stack.names()}
    kafka_pid = ROOT / ".run" / "kafka" / "kafka.pid"
    if kafka_pid.exists():
        pids["kafka"] = int(kafka_pid.read_text())
    return {k: v for k, v in pids.items() if v}


async def main(args) -> dict:
    settings = Settings()
    pg = os.environ.get("ONWARD_PG_URL") or local_server_url(ROOT / ".run" / "postgres", 5544)
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    urls = await prepare(pg, settings.kafka_bootstrap_servers, settings.topic_partitions, prefix=prefix)
    stack = Stack(ROOT / ".run" / "bench", urls, settings.kafka_bootstrap_servers, ports=PORTS,
                  env={"ONWARD_LOG_LEVEL": "WARNING", "ONWARD_DEV_MESSAGES_PER_MINUTE": str(NOTIFY_BUDGET)},
                  worker_replicas=args.replicas)
    nccis = nccis_return.measure(10_000)  # in process, before the stack takes the cores
    stack.down()
    stack.up(timeout=120)
    token = {"Authorization": "Bearer " + issue_token(settings.jwt_secret.get_secret_value(), role="admin",
                                                      sub="bench")}
    try:
        # One generator call: twins are two people, a leaver reported twice by two schools is one.
        n_background, n_probes = int(args.latency_rate * (args.latency_seconds + 1)), int(args.latency_seconds * 4) + 4
        n_warm, n_files = 12, 2 * IMPORT_ROWS
        everyone = cohort(args.leavers + n_background + n_probes + n_warm + n_files, seed=args.seed)
        for_files, everyone = everyone[-n_files:], everyone[:-n_files]
        leavers = everyone[:args.leavers]
        background, probes = everyone[args.leavers:-n_probes - n_warm], everyone[-n_probes - n_warm:-n_warm]
        warm = everyone[-n_warm:]
        you_people = cohort(args.you_probes, seed=args.seed + 1, first_serial=9_000_000)  # nobody of the above
        cases, referrals = expected(leavers, date.today())
        sample = json.dumps(leavers[0]).encode()
        base = await baseline(settings.kafka_bootstrap_servers, args.leavers, len(sample) + 700)
        pids = processes(stack)
        async with httpx.AsyncClient() as http:
            ready_s = await warm_up(urls, http, token, warm)
            # Issue 17: a young person's "I'd like help" on the /you/ pages to the referral in the NCS queue.
            # Before the cohort: at Notify's pace its 40,000 first messages take a quarter of an hour.
            asked = sorted(await help_to_referral(f"http://127.0.0.1:{PORTS['school_exit']}",
                                                  f"http://127.0.0.1:{PORTS['la_tracker']}", urls, token, you_people,
                                                  settings.person_key_secret.get_secret_value()))
            prof = args.profile and Profile(Path(args.profile), pg, pids.get("la_tracker.worker"))
            if prof:
                await prof.start()
            pg_pid = await postmaster(pg)
            cpu_before = {k: _proc(p)[1] for k, p in pids.items()} | {"postgres": postgres_cpu(pg_pid)}
            started = time.monotonic()
            await submit(http, leavers, args.clients, token)
            ingest_s = time.monotonic() - started
            await wait_for(urls, cases, referrals, args.timeout)
            e2e_s = time.monotonic() - started
            used = {k: _proc(p)[1] - cpu_before[k] for k, p in pids.items()}
            used["postgres"] = postgres_cpu(pg_pid) - cpu_before["postgres"]
            cpu = {k: round(v / e2e_s, 2) for k, v in used.items()}
            if prof:
                await prof.stop(used, args.leavers)
            hist, missing = await latency(urls, http, token, args.latency_rate, args.latency_seconds, background,
                                          probes)
            files = await file_imports(http, f"http://127.0.0.1:{PORTS['school_exit']}", token, for_files)
        # A big LA's work list (issue 16): its own LA's open cases seeded beside the cohort's.
        big = await big_la.measure(urls["la_tracker"], f"http://127.0.0.1:{PORTS['la_tracker']}",
                                   settings.jwt_secret.get_secret_value(), n=args.big_la_cases)
        rss = {k: round(_proc(p)[0], 1) for k, p in pids.items()}
    finally:
        stack.down()
        if args.keep:
            print(f"kept databases {prefix}_*", file=sys.stderr)
        else:
            for spec in SERVICES.values():
                await drop_service_database(pg, spec.database(prefix))
    e2e = args.leavers / e2e_s
    return {
        "date": date.today().isoformat(), "machine": f"{os.cpu_count()} cores", "leavers": args.leavers,
        "clients": args.clients, "worker_replicas": args.replicas, "stack_ready_s": round(ready_s, 1),
        "expected_cases": len(cases),
        "expected_referrals": len(referrals), "ingest_leavers_per_s": round(args.leavers / ingest_s),
        "end_to_end_seconds": round(e2e_s, 1), "end_to_end_events_per_s": round(e2e),
        "baseline_events_per_s": round(base), "ratio": round(e2e / base, 3),
        "latency_background_leavers_per_s": args.latency_rate, "latency_probes": hist.get_total_count(),
        "latency_probes_never_referred": missing,
        "handoff_latency_p50_ms": hist.get_value_at_percentile(50),
        "handoff_latency_p95_ms": hist.get_value_at_percentile(95),
        "handoff_latency_p99_ms": hist.get_value_at_percentile(99),
        "handoff_latency_max_ms": hist.get_max_value(),
        "help_to_ncs_queue_probes": len(asked),
        "help_to_ncs_queue_p50_ms": round(asked[len(asked) // 2] * 1000) if asked else None,
        "help_to_ncs_queue_max_ms": round(asked[-1] * 1000) if asked else None,
        **nccis, **files, **big, "peak_rss_mb": rss, "cpu_cores_during_end_to_end": cpu,
    }


def report(result: dict) -> None:
    out = ROOT / "bench" / "results"
    (out / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.bar(["raw Kafka\nbaseline", "Onward\nend to end"], [result["baseline_events_per_s"],
                                                          result["end_to_end_events_per_s"]], color=["#505a5f", "#1d70b8"])
    a.set_ylabel("events (leavers) per second")
    a.set_title(f"{result['leavers']:,} leavers, ratio {result['ratio']:.1%}")
    a.set_yscale("log")
    pct = ["p50", "p95", "p99", "max"]
    b.bar(pct, [result[f"handoff_latency_{p}_ms"] for p in pct], color="#00703c")
    b.set_ylabel("ms")
    b.set_title(f"handoff latency at {result['latency_background_leavers_per_s']} leavers/s")
    fig.tight_layout()
    fig.savefig(out / "latest.png", dpi=100)
    doc = ROOT / "docs" / "performance.md"
    table = "\n".join([
        "| figure | value |", "|---|---|",
        *(f"| {k} | {v} |" for k, v in result.items() if not isinstance(v, dict)),
        *(f"| peak RSS MB, {k} | {v} |" for k, v in result["peak_rss_mb"].items()),
        *(f"| CPU cores during end to end, {k} | {v} |" for k, v in result["cpu_cores_during_end_to_end"].items()),
    ])
    text = doc.read_text() if doc.exists() else "# Performance\n\n<!-- bench:start -->\n<!-- bench:end -->\n"
    head, rest = text.split("<!-- bench:start -->", 1)
    tail = rest.split("<!-- bench:end -->", 1)[1]
    doc.write_text(f"{head}<!-- bench:start -->\n{table}\n\n![bench](../bench/results/latest.png)\n<!-- bench:end -->{tail}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--leavers", type=int, default=int(os.environ.get("BENCH_LEAVERS", 100_000)))
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--replicas", type=int, default=int(os.environ.get("ONWARD_WORKER_REPLICAS", 1)))
    p.add_argument("--latency-rate", type=int, default=200)
    p.add_argument("--latency-seconds", type=float, default=30)
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--big-la-cases", type=int, default=20_000, help="open cases in one LA for the work-list figures")
    p.add_argument("--you-probes", type=int, default=10, help="young people asking for help on the /you/ pages")
    p.add_argument("--profile", metavar="DIR", help="CPU per process, top SQL statements and py-spy of the"
                   " la_tracker worker over the end-to-end phase, into DIR (bench/profile.py)")
    p.add_argument("--keep", action="store_true", help="keep the run's databases (to look into a failure)")
    res = asyncio.run(main(p.parse_args()))
    report(res)
    print(json.dumps(res))
