"""la_tracker's durable time-based rules (services/la_tracker/scheduler.py) on a real PostgreSQL: each test
chooses the date instead of waiting for it."""
from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from services.la_tracker import scheduler
from tests import factories as f


@pytest.fixture
async def pool(infra):
    async with f.fresh_database(infra, "la_tracker") as pool:
        yield pool


async def _run_due(pool, day) -> int:
    async with pool.acquire() as conn, conn.transaction():
        return await scheduler.run_due(conn, day)


async def _jobs(pool, ev) -> list[tuple]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("select kind, due_on, done_at is not null as done, outcome from scheduled_jobs"
                                " where person_key = $1 order by kind", ev.person_key)
    return [tuple(r) for r in rows]


async def test_referral_waits_for_the_las_delay_then_goes(pool):
    async with pool.acquire() as conn:
        await f.set_policy(conn, referral_delay_days=14)
    ev = f.leaver()
    case = await f.reported(pool, ev)
    due = f.TODAY + timedelta(days=14)
    assert (case["reason"], case["referral_status"], case["referral_due_on"]) == ("referral_delay", None, due)

    assert await _run_due(pool, due - timedelta(days=1)) == 0
    async with pool.acquire() as conn:
        assert await f.outbox_events(conn, ev.person_key, "ReferralRequested") == []

    assert await _run_due(pool, due) == 1
    async with pool.acquire() as conn:
        after = await f.case_of(conn, ev)
        requested = await f.outbox_events(conn, ev.person_key, "ReferralRequested")
    assert (after["status"], after["referral_status"], after["referral_due_on"]) == ("referred_to_ncs", "requested",
                                                                                     None)
    assert [r["referral_id"] for r in requested] == [str(after["referral_id"])]
    assert await _jobs(pool, ev) == [("refer", due, True, "referred")]
    assert await _run_due(pool, due) == 0   # done once


async def test_a_delayed_referral_is_skipped_when_the_case_closed_meanwhile(pool):
    async with pool.acquire() as conn:
        await f.set_policy(conn, referral_delay_days=14)
    ev = f.leaver()
    await f.reported(pool, ev)
    await f.reported(pool, f.leaver(upn=ev.upn, destination=("310", "confirmed")))  # the school: an apprenticeship

    await _run_due(pool, f.TODAY + timedelta(days=14))

    async with pool.acquire() as conn:
        after = await f.case_of(conn, ev)
        requested = await f.outbox_events(conn, ev.person_key, "ReferralRequested")
    assert (after["status"], after["referral_status"]) == ("closed", None)
    assert requested == []
    assert ("refer", f.TODAY + timedelta(days=14), True, "skipped_case_changed") in await _jobs(pool, ev)


async def test_a_delayed_referral_is_skipped_when_consent_is_withdrawn_meanwhile(pool):
    async with pool.acquire() as conn:
        await f.set_policy(conn, referral_delay_days=14)
    ev = f.leaver()
    await f.reported(pool, ev)
    await f.reported(pool, f.leaver(upn=ev.upn, consent=False))   # a newer report without consent

    await _run_due(pool, f.TODAY + timedelta(days=14))

    async with pool.acquire() as conn:
        after = await f.case_of(conn, ev)
    assert (after["reason"], after["referral_status"]) == ("no_consent", None)
    assert ("refer", f.TODAY + timedelta(days=14), True, "skipped_no_consent") in await _jobs(pool, ev)


NOVEMBER_1 = date(f.LEFT.year, 11, 1)   # the default date an intended destination is confirmed by


async def test_an_intended_destination_unconfirmed_by_its_due_date_becomes_not_known(pool):
    async with pool.acquire() as conn:
        await f.set_policy(conn, confirmation_due_days=30)   # the LA's period is not the due date any more
    ev = f.leaver(destination=("230", "intended"), consent=False)
    case = await f.reported(pool, ev)
    due = NOVEMBER_1
    assert (case["status"], case["due_on"]) == ("awaiting_confirmation", due)

    assert await _run_due(pool, f.TODAY + timedelta(days=30)) == 0   # 30 days after the report: not yet due
    assert await _run_due(pool, due - timedelta(days=1)) == 0
    async with pool.acquire() as conn:
        assert (await f.case_of(conn, ev))["status"] == "awaiting_confirmation"

    assert await _run_due(pool, due) == 1

    async with pool.acquire() as conn:
        after = await f.case_of(conn, ev)
        person = await conn.fetchrow("select activity_code, activity_status from young_people where person_key = $1",
                                     ev.person_key)
        kinds = await f.timeline_kinds(conn, case["case_id"])
    assert (after["status"], after["reason"]) == ("not_known", "no_consent")
    assert (person["activity_code"], person["activity_status"]) == ("810", "lapsed")
    assert "confirmation_overdue" in kinds
    assert await _jobs(pool, ev) == [("confirmation_due", due, True, "not_known_no_consent")]


async def test_a_confirmed_destination_before_the_due_date_is_left_alone(pool):
    ev = f.leaver(destination=("230", "intended"), consent=False)
    await f.reported(pool, ev)
    await f.reported(pool, f.leaver(upn=ev.upn, destination=("230", "confirmed"), consent=False))

    await _run_due(pool, NOVEMBER_1)

    async with pool.acquire() as conn:
        after = await f.case_of(conn, ev)
        code = await conn.fetchval("select activity_code from young_people where person_key = $1", ev.person_key)
    assert after["status"] == "closed" and code == "230"
    assert ("confirmation_due", NOVEMBER_1, True, "skipped_confirmed_or_changed") in await _jobs(pool, ev)


async def test_an_intended_destination_is_due_by_the_las_own_date_or_its_period_once_that_date_has_passed(pool):
    async with pool.acquire() as conn:
        await conn.execute("insert into la_nccis_settings (la, confirmation_due) values ($1, '10-15')", f.DERBY)
        await f.set_policy(conn, confirmation_due_days=21)
    early = await f.reported(pool, f.leaver(destination=("230", "intended"), consent=False))
    late_day = date(f.LEFT.year, 10, 20)   # reported after the LA's date: the LA's period from the report
    late = await f.reported(pool, f.leaver(destination=("230", "intended"), consent=False), today=late_day)
    assert (early["status"], early["due_on"]) == ("awaiting_confirmation", date(f.LEFT.year, 10, 15))
    assert (late["status"], late["due_on"]) == ("awaiting_confirmation", late_day + timedelta(days=21))


async def test_a_confirmed_activity_nobody_reconfirms_lapses_to_not_known_and_opens_a_case(pool):
    ev = f.leaver(destination=("330", "confirmed"))   # a job without training: 365 days' currency by default
    assert await f.reported(pool, ev) is None
    [(kind, lapse, done, _)] = await _jobs(pool, ev)
    assert (kind, done) == ("currency_lapse", False) and lapse > f.TODAY

    await _run_due(pool, lapse - timedelta(days=1))
    async with pool.acquire() as conn:
        assert await f.case_of(conn, ev) is None
    await _run_due(pool, lapse)

    async with pool.acquire() as conn:
        case = await f.case_of(conn, ev)
        status = await conn.fetchval("select activity_status from young_people where person_key = $1", ev.person_key)
    assert (case["status"], case["referral_status"], status) == ("referred_to_ncs", "requested", "lapsed")
    [(_, _, done, outcome)] = await _jobs(pool, ev)
    assert done and outcome.startswith("not_known_")


async def test_two_replicas_never_run_the_same_job(pool):
    async with pool.acquire() as conn:
        await f.set_policy(conn, referral_delay_days=14)
    ev = f.leaver()
    await f.reported(pool, ev)
    due = f.TODAY + timedelta(days=14)
    first_holds = asyncio.Event()
    release = asyncio.Event()

    async def first() -> int:
        async with pool.acquire() as conn, conn.transaction():
            ran = await scheduler.run_due(conn, due)
            first_holds.set()
            await release.wait()   # its job stays locked until this transaction commits
            return ran

    task = asyncio.create_task(first())
    try:
        await first_holds.wait()
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("set local lock_timeout = '5s'")  # were the job waited for, not skipped: an error
            second = await scheduler.run_due(conn, due)
    finally:
        release.set()
    assert (await task, second) == (1, 0)
    async with pool.acquire() as conn:
        assert len(await f.outbox_events(conn, ev.person_key, "ReferralRequested")) == 1
