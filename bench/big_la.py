"""A big LA's work list (issue 16: a Kent-sized autumn): `n` open cases in one LA, then the p95 of
the queue page, a name-part search and "My cases", and the time to export the whole list as CSV.

Self-contained: it seeds la_tracker's database directly (one INSERT ... SELECT per table, synthetic
names, no Kafka) and asks a running la_tracker over HTTP, as a signed-in officer would. It is a
bench figure (`make bench`), never a timed test; tests/e2e/test_big_la_measure.py runs it small.
"""
from __future__ import annotations

import secrets
import time

import asyncpg
import httpx

from onward.auth import issue_token
from onward.web import SESSION_TTL, session_audience, session_key

GIVEN = ["Amira", "Oliver", "Priya", "Jack", "Zainab", "Noah", "Chloe", "Kacper", "Aisha", "Leo", "Maya", "Tomasz",
         "Freya", "Yusuf", "Isla", "Ethan", "Grace", "Kwame", "Sofia", "Harry"]
FAMILY = ["Khan", "Smith", "Shah", "Jones", "Nowak", "Okafor", "Taylor", "Patel", "Brown", "Ali", "Wilson", "Begum",
          "Evans", "Hussain", "Walker", "Mensah", "Wright", "Kowalski", "Green", "Ahmed"]
WORKER = "bench-worker"


async def seed(conn: asyncpg.Connection, la: str, n: int) -> None:
    """`n` young people with open cases in LA `la`, one in ten assigned to the bench's worker."""
    await conn.execute(
        "insert into young_people (person_key, responsible_la, details, facts, upn, given_norm, family_norm, dob)"
        " select 'bigla-' || $1 || '-' || i, $1, jsonb_build_object('given_name', g, 'family_name', f || '-' || i,"
        "  'date_of_birth', d::text), '{}'::jsonb, 'B' || lpad(i::text, 12, '0'), lower(g), lower(f || '-' || i), d"
        " from (select i, ($2::text[])[1 + i % 20] g, ($3::text[])[1 + (i / 20) % 20] f,"
        "  date '2007-09-01' + (i % 365) d from generate_series(1, $4) i) s on conflict do nothing",
        la, GIVEN, FAMILY, n)
    await conn.execute(
        "insert into cases (case_id, person_key, responsible_la, status, reason, priority, assigned_to, assigned_name,"
        " opened_at) select gen_random_uuid(), 'bigla-' || $1 || '-' || i, $1, 'not_known', 'no_consent', 1 + i % 3,"
        " case when i % 10 = 0 then $2 end, case when i % 10 = 0 then 'Bench Worker' end,"
        " now() - make_interval(days => i % 90) from generate_series(1, $3) i on conflict do nothing", la, WORKER, n)
    await conn.execute("analyze young_people; analyze cases")


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1)


async def _timed(http: httpx.AsyncClient, path: str, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        started = time.perf_counter()
        r = await http.get(path)
        out.append(time.perf_counter() - started)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), (path, r.text[:200])
    return out


async def _session(conn: asyncpg.Connection, jwt_secret: str, la: str) -> str:
    """A page session for the bench's worker, as sign-in makes one: a server-side row (table
    web_sessions) and a cookie signed with la_tracker's session key and audience, naming that row."""
    session_id = secrets.token_urlsafe(32)
    await conn.execute("insert into web_sessions (session_id, sub, role, expires_at)"
                       " values ($1, $2, 'la_staff', now() + make_interval(secs => $3))",
                       session_id, WORKER, float(SESSION_TTL))
    return issue_token(session_key(jwt_secret, "la_tracker"), role="la_staff", sub=WORKER, la=la,
                       name="Bench Worker", ttl_seconds=SESSION_TTL, audience=session_audience("la_tracker"),
                       jti=session_id)


async def measure(database_url: str, base_url: str, jwt_secret: str, *, la: str = "886", n: int = 20_000,
                  rounds: int = 40) -> dict:
    """Seed, then time the pages an officer of a big LA uses; figures in ms (p95) and s (CSV)."""
    conn = await asyncpg.connect(database_url)
    try:
        await seed(conn, la, n)
        session = await _session(conn, jwt_secret, la)
    finally:
        await conn.close()
    async with httpx.AsyncClient(base_url=base_url, timeout=120,
                                 cookies={"onward_la_tracker_session": session}) as http:
        queue = await _timed(http, "/cases", rounds)
        search = await _timed(http, "/cases?q=sha", rounds)
        mine = await _timed(http, "/cases?assigned=me", rounds)
        started = time.perf_counter()
        r = await http.get("/cases.csv")
        csv_s = time.perf_counter() - started
        assert r.status_code == 200 and r.text.count("\n") > n, (r.status_code, r.text[:200])
    return {"big_la_open_cases": n, "big_la_queue_p95_ms": _p95(queue), "big_la_name_search_p95_ms": _p95(search),
            "big_la_my_cases_p95_ms": _p95(mine), "big_la_csv_export_s": round(csv_s, 2)}
