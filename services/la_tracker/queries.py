"""What LA staff ask of la_tracker and do to a case: called by the JSON API (api*.py) and the pages
(web*.py) alike, so that scoping (another LA's case answers 404, so its existence is not disclosed),
the audit of every read of personal data and each action's transaction are one implementation.

Errors are the API's (HTTPException: 404, 409 with the reason, 422 naming the field), which the pages
turn into messages on the form.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from uuid import UUID

import asyncpg
from fastapi import HTTPException

from onward.audit import record_read
from onward.auth import Principal, require
from onward.la_data import local_authorities
from onward.listing import Query as Where, order_by
from services.la_tracker import activity_rules, casework, domain, staff, store, store_casework, worklist
from services.la_tracker.staff import NotAllowed

CASE_SORTS = {"priority": "priority", "opened_at": "opened_at", "updated_at": "updated_at", "status": "status",
              "worklist": worklist.WORKLIST_ORDER, "last_contact_at": "last_contact_at"}
PERSONAL_FIELDS = ("given_name", "family_name", "date_of_birth", "home_postcode", "address_lines", "email", "phone",
                   "upn", "uln")
NAME_FIELDS = ("given_name", "family_name")
# Who may ask these queries: LA staff (their own LA) and administrators (any LA).
la_staff = require("la_staff", "admin")
Action = Callable[[asyncpg.Connection, asyncpg.Record], Awaitable[dict | None]]


def as_json(r) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, UUID) else v)
            for k, v in dict(r).items()}


def bad(field: str, message: str) -> HTTPException:
    return HTTPException(422, [{"field": field, "message": message}])


def scope(who: Principal) -> str | None:
    """The LA whose cases the caller sees; None for an administrator (every LA)."""
    return who.la if who.role == "la_staff" else None


def la_of(who: Principal, la: str | None) -> str:
    """LA staff act for their own LA; an admin names one."""
    chosen = who.la if who.role == "la_staff" else la
    if chosen not in local_authorities():
        raise HTTPException(422, [{"field": "la", "message": "name a DfE LA code (admin only)"}])
    return chosen


def case_filters(who: Principal, *, status=None, priority=None, reason=None, person_key=None, q=None,
                 min_age_days=None, assigned=None, sort=None, asked_for_help: bool | None = None):
    """The list's conditions (scoped to the caller's LA) and order; bad values are a 422 naming the field."""
    if status is not None and status not in (*domain.CASE_STATUSES, "open"):
        raise bad("status", f"status must be open or one of {', '.join(domain.CASE_STATUSES)}")
    where = Where()
    if scope(who) is not None:
        where.where("responsible_la = {}", who.la)
    worklist.add_view(where, status, assigned, who.sub)
    for column, value in (("priority", priority), ("reason", reason), ("person_key", person_key)):
        if value is not None:
            where.where(f"{column} = {{}}", value)
    if asked_for_help is not None:  # issue 17: requests from the young person's pages
        where.where(("" if asked_for_help else "not ") + store.ASKED_FOR_HELP)
    if min_age_days is not None:
        where.where("opened_at <= now() - make_interval(days => {})", min_age_days)
    if q:
        try:
            worklist.add_search(where, q)
        except ValueError:
            raise bad("q", "a date of birth must be a real date, as YYYY-MM-DD") from None
    return where, order_by(sort, CASE_SORTS, "priority", "case_id")


async def list_cases(pool, who: Principal, *, page_no: int = 1, page_size: int = 50, **filters) -> dict:
    """A page of the caller's LA's cases with the count of each status; a name search is audited."""
    where, order = case_filters(who, **filters)
    async with pool.acquire() as conn:
        result = await worklist.fetch_page(conn, store.CASE_COLUMNS, where, order, page_no, page_size)
        counts = await store.status_counts(conn, scope(who))
        if filters.get("q"):
            await record_read(conn, who, "case", [r["case_id"] for r in result["items"]], NAME_FIELDS,
                              action="search")
    return {**result, "items": [as_json(r) for r in result["items"]], "counts": counts}


async def export_cases(pool, who: Principal, **filters) -> str:
    """The current list (same filters, every page) as CSV text; the export is audited."""
    where, order = case_filters(who, **filters)
    async with pool.acquire() as conn:
        rows = await worklist.fetch_all(conn, store.CASE_COLUMNS, where, order)
        await record_read(conn, who, "case", [r["case_id"] for r in rows], NAME_FIELDS, action="export")
    return worklist.to_csv(rows)


async def own_case(conn, case_id: UUID, who: Principal, *, for_update: bool = False):
    """The case when it is the caller's LA's; else 404."""
    case = await store.get_case(conn, case_id, for_update=for_update)
    if case is None or (who.role == "la_staff" and case["responsible_la"] != who.la):
        raise HTTPException(404, "case not found")
    return case


async def get_case(pool, case_id: UUID, who: Principal) -> dict:
    """The case with its young person's details, routing facts and timeline (an audited read)."""
    async with pool.acquire() as conn:
        case = await own_case(conn, case_id, who)
        person = await store.get_young_person(conn, case["person_key"])
        events = await store.timeline(conn, case_id)
        await record_read(conn, who, "case", [case_id], PERSONAL_FIELDS)
    f = person["facts"]
    return {
        **as_json(case),
        "young_person": {k: person["details"].get(k) for k in PERSONAL_FIELDS},
        "characteristics": f["characteristics"], "send": {"ehcp": f["ehcp"], "sen_support": f["sen_support"]},
        "level_of_need": person["level_of_need"],
        "consent": {"share_with_ncs": f["consent_to_ncs"], "objects_to_sharing": f["objects_to_sharing"],
                    "source": f.get("consent_source"), "recorded_at": f.get("consent_recorded_at")},
        "current_activity": {"activity_code": person["activity_code"], "status": person["activity_status"],
                             "start_date": as_json({"d": person["activity_start"]})["d"],
                             "review_date": as_json({"d": person["activity_review"]})["d"]},
        "timeline": [{"at": e["at"].isoformat(), "kind": e["kind"], "actor": e["actor"], **e["detail"]} for e in events],
    }


async def act(pool, case_id: UUID, who: Principal, action: Action) -> dict:
    """Run a staff action on the caller's case (locked) in one transaction; the case after it, as JSON."""
    try:
        async with pool.acquire() as conn, conn.transaction():
            case = await own_case(conn, case_id, who, for_update=True)
            result = await action(conn, case)
            case = await store.get_case(conn, case_id)
    except NotAllowed as exc:
        raise HTTPException(409, str(exc)) from None
    except activity_rules.Invalid as exc:
        raise bad(exc.field, str(exc)) from None
    return {**as_json(case), **(result or {})}


async def record_contact(pool, case_id: UUID, who: Principal, body) -> dict:
    return await act(pool, case_id, who, lambda conn, case: staff.record_contact(
        conn, case, who, body.method, body.outcome, body.note))


async def set_activity(pool, case_id: UUID, who: Principal, body, today: date) -> dict:
    if body.start_date and body.review_date and body.review_date < body.start_date:
        raise bad("review_date", "review date is before the start date")
    return await act(pool, case_id, who, lambda conn, case: staff.set_activity(
        conn, case, who, body.activity_code, body.start_date, body.review_date, today, body.predicted_end_date,
        body.characteristic))


async def record_consent(pool, case_id: UUID, who: Principal, body, today: date) -> dict:
    return await act(pool, case_id, who, lambda conn, case: staff.record_consent(
        conn, case, who, body.share_with_ncs, body.source, today))


async def refer(pool, case_id: UUID, who: Principal, handoff: dict | None) -> dict:
    async def action(conn, case):
        return {"referral_id": str(await staff.refer(conn, case, who, handoff))}
    return await act(pool, case_id, who, action)


async def set_handoff(pool, case_id: UUID, who: Principal, body) -> dict:
    return await act(pool, case_id, who, lambda conn, case: staff.set_handoff(conn, case, who, body.model_dump()))


async def assign(pool, case_id: UUID, who: Principal, body) -> dict:
    await seen(pool, who)
    return await act(pool, case_id, who, lambda conn, case: casework.assign(conn, case, who, body.assignee))


async def assign_many(pool, who: Principal, body) -> dict:
    """All or none: another LA's case is a 404 for the whole request."""
    await seen(pool, who)
    try:
        async with pool.acquire() as conn, conn.transaction():
            for case_id in body.case_ids:
                await casework.assign(conn, await own_case(conn, case_id, who, for_update=True), who, body.assignee)
    except NotAllowed as exc:
        raise HTTPException(409, str(exc)) from None
    return {"assigned": len(body.case_ids), "assignee": body.assignee}


async def add_task(pool, case_id: UUID, who: Principal, body) -> dict:
    async def action(conn, case):
        return {"task_id": str(await casework.add_task(conn, case, who, body.due_on, body.description))}
    return await act(pool, case_id, who, action)


async def add_note(pool, case_id: UUID, who: Principal, body) -> dict:
    return await act(pool, case_id, who, lambda conn, case: casework.add_note(conn, case, who, body.text))


async def complete_task(pool, task_id: UUID, who: Principal) -> dict:
    async with pool.acquire() as conn, conn.transaction():
        task = await store_casework.get_task(conn, task_id, for_update=True)
        if task is None:
            raise HTTPException(404, "task not found")
        await own_case(conn, task["case_id"], who)  # another LA's task is a 404 too
        try:
            await casework.complete_task(conn, task, who)
        except NotAllowed as exc:
            raise HTTPException(409, str(exc)) from None
    return {"task_id": str(task_id), "done": True}


async def tasks(pool, who: Principal, due_by: date, *, mine: bool = False) -> dict:
    """Follow-up tasks due by `due_by`, overdue first; `mine`: the caller's only (an audited list)."""
    async with pool.acquire() as conn:
        rows = await store_casework.tasks_due(conn, who.la, due_by, who.sub if mine else None)
        await record_read(conn, who, "case", {r["case_id"] for r in rows}, NAME_FIELDS, action="list")
    return {"items": [{k: (str(v) if isinstance(v, (UUID, date)) else v) for k, v in dict(r).items()} for r in rows]}


async def seen(pool, who: Principal) -> None:
    """The caller becomes someone their LA's cases can be assigned to."""
    async with pool.acquire() as conn:
        await casework.seen(conn, who)
