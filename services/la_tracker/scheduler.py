"""Durable time-based rules in Postgres: referral delay, confirmation due date, currency lapse.

Jobs are rows with a due date. `run_due` claims due jobs with `FOR UPDATE SKIP LOCKED`, so several
worker replicas can run it at once without doing a job twice; `today` is passed in, so tests (and a
replay) choose the date instead of waiting for it.
"""
from __future__ import annotations

from datetime import date

import asyncpg

from services.la_tracker import domain, store
from services.la_tracker import currency, store_nccis
from services.la_tracker.handlers import (ACTIVE_REFERRAL, Cause, decide, request_referral, reroute,
                                         young_person)


async def run_due(conn: asyncpg.Connection, today: date, limit: int = 100) -> int:
    """Run every job due on or before `today` (call inside a transaction); return how many ran."""
    jobs = await conn.fetch(
        "select job_id, kind, person_key, case_id, due_on from scheduled_jobs where done_at is null and due_on <= $1"
        " order by due_on, job_id limit $2 for update skip locked", today, limit)
    for job in jobs:
        outcome = await JOBS[job["kind"]](conn, job, today)
        await conn.execute("update scheduled_jobs set done_at = now(), outcome = $2 where job_id = $1",
                           job["job_id"], outcome)
    return len(jobs)


async def _refer(conn, job, today: date) -> str:
    """The LA's referral delay has passed: refer if the person still qualifies and nothing changed."""
    case = await store.get_case(conn, job["case_id"], for_update=True)
    if case is None or case["status"] not in domain.OPEN_STATUSES or case["referral_status"] in ACTIVE_REFERRAL:
        return "skipped_case_changed"
    person = await store.get_young_person(conn, job["person_key"])
    decision = await decide(conn, young_person(person["facts"], person["activity_code"], person["activity_status"]),
                            case["responsible_la"], today)
    if not decision.refer:
        return f"skipped_{decision.reason}"
    await request_referral(conn, Cause("ReferralDelayElapsed"), case["case_id"], actor="scheduler")
    return "referred"


async def _confirmation_due(conn, job, today: date) -> str:
    """An intended destination still unconfirmed on its due date becomes not known (docs/domain-rules.md 5.3)."""
    case = await store.get_case(conn, job["case_id"], for_update=True)
    person = await store.get_young_person(conn, job["person_key"], for_update=True)
    if case is None or case["status"] != domain.AWAITING_CONFIRMATION or person["activity_status"] != "intended":
        return "skipped_confirmed_or_changed"
    await store.add_timeline(conn, case["case_id"], "confirmation_overdue", "scheduler",
                             {"intended_activity": person["activity_code"]})
    return await _not_known(conn, job, person, case["responsible_la"], today, "ConfirmationOverdue")


async def _currency_lapse(conn, job, today: date) -> str:
    """A recorded activity nobody has re-confirmed is no longer current: the person counts as not known
    and a case opens, but the activity is kept (the return flags it CurrencyLapsed = Y, docs/domain-rules.md 6)."""
    person = await store.get_young_person(conn, job["person_key"], for_update=True)
    la = person["responsible_la"]
    lapse = person["activity_status"] == "confirmed" and person["activity_ascertained"] and currency.lapse_of(
        person["activity_code"], verified=person["activity_ascertained"], start=person["activity_start"],
        review=person["activity_review"], predicted_end=person["activity_predicted_end"],
        rules=await store_nccis.currency_table(conn, la))
    if not lapse:
        return "skipped_reconfirmed"
    if lapse > today:  # re-confirmed, or the LA lengthened the period: wake up on the new date
        await store.schedule(conn, "currency_lapse", job["person_key"], None, lapse)
        return "skipped_reconfirmed"
    await store.set_person_fields(conn, job["person_key"], activity_status=domain.LAPSED)
    return await _route_not_known(conn, job, person, la, today, "CurrencyLapsed")


async def _not_known(conn, job, person, la: str, today: date, cause_type: str) -> str:
    await store.set_activity(conn, job["person_key"], "810", domain.LAPSED, today)
    return await _route_not_known(conn, job, person, la, today, cause_type)


async def _route_not_known(conn, job, person, la: str, today: date, cause_type: str) -> str:
    decision = await reroute(conn, Cause(cause_type), job["person_key"], la,
                             young_person(person["facts"], "810", domain.LAPSED), today)
    return f"not_known_{decision.reason}"


JOBS = {"refer": _refer, "confirmation_due": _confirmation_due, "currency_lapse": _currency_lapse}
