"""Retention purge against each service's real database: what is past its time goes, the rest stays."""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta, timezone

import asyncpg
import pytest

from onward.retention import purge
from services.la_tracker.retention import RULES as LA_RULES
from services.ncs_referral.retention import RULES as NCS_RULES
from services.school_exit.retention import RULES as SCHOOL_RULES

NOW = datetime.now(timezone.utc)


@pytest.fixture
async def connect(databases):
    conns = []

    async def open_(service: str) -> asyncpg.Connection:
        conn = await asyncpg.connect(databases[service])
        await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
        conns.append(conn)
        return conn
    yield open_
    for c in conns:
        await c.close()


async def _shared_rows(conn, tag: str) -> None:
    for age, published in ((10, True), (1, True), (10, False)):
        await conn.execute("insert into outbox (event_id, topic, key, payload, created_at, published_at)"
                           " values ($1, $2, $3, $4, $5, $6)", uuid.uuid4(), f"t-{tag}-{age}-{published}", b"k",
                           b"personal", NOW - timedelta(days=age), NOW - timedelta(days=age) if published else None)
    for age in (40, 1):
        await conn.execute("insert into processed_events (consumer, event_id, processed_at) values ($1, $2, $3)",
                           f"c-{tag}-{age}", uuid.uuid4(), NOW - timedelta(days=age))
        await conn.execute("insert into audit_log (at, actor_sub, actor_role, action, object_type, object_id)"
                           " values ($1, $2, 'admin', 'read', 'x', 'y')", NOW - timedelta(days=age * 20), f"a-{tag}-{age}")


async def _shared_left(conn, tag: str) -> dict:
    return {
        "outbox": sorted(r["topic"] for r in await conn.fetch("select topic from outbox where topic like $1", f"t-{tag}-%")),
        "processed": sorted(r["consumer"] for r in await conn.fetch(
            "select consumer from processed_events where consumer like $1", f"c-{tag}-%")),
        "audit": sorted(r["actor_sub"] for r in await conn.fetch(
            "select actor_sub from audit_log where actor_sub like $1", f"a-{tag}-%")),
    }


async def test_shared_records_and_school_reports_past_their_time_are_purged(connect):
    conn = await connect("school_exit")
    tag = uuid.uuid4().hex[:6]
    await _shared_rows(conn, tag)
    old, recent = uuid.uuid4(), uuid.uuid4()
    for leaver_id, left in ((old, date.today() - timedelta(days=800)), (recent, date.today() - timedelta(days=30))):
        await conn.execute("insert into leavers (leaver_id, person_key, upn, school_laestab, leaving_date, content_hash,"
                           " body) values ($1, $2, $3, '8314001', $4, 'h', '{}')", leaver_id, tag + str(leaver_id),
                           "X" + uuid.uuid4().hex[:12].upper(), left)
        await conn.execute("insert into leaver_timeline (leaver_id, kind) values ($1, 'registered')", leaver_id)
    removed = await purge(conn, SCHOOL_RULES, NOW)
    assert removed["leaver reports, 2 years after leaving"] >= 1
    assert await _shared_left(conn, tag) == {
        "outbox": [f"t-{tag}-1-True", f"t-{tag}-10-False"],  # unpublished rows are never purged
        "processed": [f"c-{tag}-1"], "audit": [f"a-{tag}-1"]}
    assert [r["leaver_id"] for r in await conn.fetch("select leaver_id from leavers where leaver_id = any($1)",
                                                     [old, recent])] == [recent]
    assert await conn.fetchval("select count(*) from leaver_timeline where leaver_id = $1", old) == 0


async def test_young_people_past_tracking_age_without_an_open_case_are_purged(connect):
    conn = await connect("la_tracker")
    today = date.today()

    async def person(age_years: int, ehcp: bool, case_status: str | None) -> str:
        key = uuid.uuid4().hex * 2
        born = today.replace(year=today.year - age_years) - timedelta(days=1)
        await conn.execute("insert into young_people (person_key, responsible_la, details, facts) values ($1, '831', $2, $3)",
                           key, {"given_name": "X"}, {"date_of_birth": born.isoformat(), "ehcp": ehcp})
        if case_status:
            case_id = uuid.uuid4()
            await conn.execute("insert into cases (case_id, person_key, responsible_la, status, reason, priority)"
                               " values ($1, $2, '831', $3, 'r', 3)", case_id, key, case_status)
            await conn.execute("insert into case_timeline (case_id, kind, actor) values ($1, 'opened', 'routing')", case_id)
        return key
    gone = [await person(21, False, "closed"), await person(27, True, None)]
    kept = [await person(19, False, "closed"), await person(21, False, "not_known"), await person(24, True, "closed")]
    removed = await purge(conn, LA_RULES, NOW)
    assert removed["young people past tracking age with no open case"] >= 2
    left = {r["person_key"] for r in await conn.fetch("select person_key from young_people where person_key = any($1)",
                                                      gone + kept)}
    assert left == set(kept)
    assert await conn.fetchval("select count(*) from cases where person_key = any($1)", gone) == 0


async def test_finished_referrals_are_purged_a_year_after_and_open_ones_kept(connect):
    conn = await connect("ncs_referral")
    ids = {}
    for name, status, age in (("old_closed", "closed", 400), ("old_open", "claimed", 400), ("new_closed", "closed", 30)):
        ids[name] = uuid.uuid4()
        await conn.execute("insert into referrals (referral_id, case_id, person_key, responsible_la, ncs_area, status,"
                           " reason, priority, handoff, consent, updated_at) values ($1, $2, 'k', '831', 'East Midlands',"
                           " $3, 'r', 3, '{}', '{}', $4)", ids[name], uuid.uuid4(), status, NOW - timedelta(days=age))
        await conn.execute("insert into referral_timeline (referral_id, kind, actor) values ($1, 'received', 'la')",
                           ids[name])
    await purge(conn, NCS_RULES, NOW)
    left = {r["referral_id"] for r in await conn.fetch("select referral_id from referrals where referral_id = any($1)",
                                                       list(ids.values()))}
    assert left == {ids["old_open"], ids["new_closed"]}
    assert await conn.fetchval("select count(*) from referral_timeline where referral_id = $1", ids["old_closed"]) == 0
