"""What an NCS adviser asks of ncs_referral and does to a referral: called by the JSON API and the pages alike.

The pages never call the API's route functions: both entry points call these, so area scoping
(another area's referral is `domain.NotFound`, answered 404 so its existence is not disclosed), the
audit of every read of personal data and each step's transaction are one implementation. No HTTP here.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from uuid import UUID, uuid4

import asyncpg

from onward.audit import record_read
from onward.auth import Principal
from services.ncs_referral import domain, handlers, store
from services.ncs_referral.wire import AssignIn, BulkAssignIn, ContactIn, OutcomeIn

SORT_KEYS = tuple(store.SORTS)
NAME_FIELDS = ("given_name", "family_name")
Step = Callable[[asyncpg.Connection, asyncpg.Record], Awaitable[object]]


def area_of(who: Principal | None) -> str | None:
    """The NCS area a caller is limited to; None (every area) for an administrator or the service itself."""
    if who is None or who.role != "ncs_adviser":
        return None
    if not who.ncs_area:  # tokens are checked for it; an adviser must never see every area
        raise domain.NotFound("no NCS area")
    return who.ncs_area


def referral_json(row) -> dict:
    """A referral row as the API shows it, with how long it has been waiting."""
    out = {k: (str(v) if isinstance(v, UUID) else v) for k, v in dict(row).items()}
    for k in ("received_at", "updated_at"):
        if out.get(k) is not None:
            out[k] = out[k].isoformat()
    out["waiting_seconds"] = int((datetime.now(timezone.utc) - row["received_at"]).total_seconds())
    return out


async def own(conn, referral_id: UUID, who: Principal, *, for_update: bool = False, with_handoff: bool = False):
    """The referral, if it is in the caller's area; else `domain.NotFound`."""
    row = await store.get_referral(conn, referral_id, for_update=for_update, with_handoff=with_handoff)
    if row is None or (who.role == "ncs_adviser" and row["ncs_area"] != area_of(who)):
        raise domain.NotFound("referral not found")
    return row


def assigned_to(who: Principal, assigned: str | None) -> str | None:
    """The `assigned` filter: `me` the caller's referrals ("My referrals"), `none` the unassigned ("" to
    the store), else an adviser's staff id; None shows everyone's."""
    return {"me": who.sub, "none": ""}.get(assigned, assigned) if assigned else None


async def list_referrals(pool, who: Principal, *, status: str | None = None, priority: int | None = None,
                         min_waiting_hours: float | None = None, person_key: str | None = None,
                         q: str | None = None, sort: str | None = None, page_no: int = 1,
                         page_size: int = 50, assigned: str | None = None) -> dict:
    """A page of the caller's area's referrals (no personal data: ids, status, area, times). `q` searches
    names and DOB (services/ncs_referral/search.py); the search is audited, as it shows which names exist."""
    async with pool.acquire() as conn:
        result = await store.referral_page(conn, ncs_area=area_of(who), status=status, priority=priority,
                                           min_waiting_hours=min_waiting_hours, person_key=person_key, sort=sort,
                                           page_no=page_no, page_size=page_size, q=q,
                                           assigned_to=assigned_to(who, assigned))
        if q:
            await record_read(conn, who, "referral", [r["referral_id"] for r in result["items"]], NAME_FIELDS,
                              action="search")
    result["items"] = [referral_json(r) for r in result["items"]]
    return result


async def named_queue(pool, who: Principal, *, status: str | None, sort: str | None, page_no: int,
                      q: str | None = None, page_size: int = 25,
                      assigned: str | None = None) -> tuple[dict, dict[str, int]]:
    """A page of the queue with each young person's name (an audited read), and the counts per status."""
    result = await list_referrals(pool, who, status=status, q=q, sort=sort, page_no=page_no, page_size=page_size,
                                  assigned=assigned)
    ids = [r["referral_id"] for r in result["items"]]
    async with pool.acquire() as conn:
        counts = await store.status_counts(conn, area_of(who))
        named = await store.names(conn, [UUID(i) for i in ids])
        await record_read(conn, who, "referral", ids, NAME_FIELDS, action="list")
    for r in result["items"]:
        r["name"] = named.get(UUID(r["referral_id"]), "")
    return result, counts


async def queue_age(pool, who: Principal | None) -> dict:
    """Service levels: unclaimed referrals per NCS area by waiting band, and the oldest wait."""
    async with pool.acquire() as conn:
        rows = await store.queue_ages(conn, area_of(who))
    areas: dict[str, dict] = {}
    for r in rows:
        a = areas.setdefault(r["ncs_area"], {"unclaimed": 0, "oldest_waiting_seconds": 0,
                                             **{name: 0 for name, _ in domain.AGE_BANDS}})
        a["unclaimed"] += 1
        a[domain.age_band(r["waiting"])] += 1
        a["oldest_waiting_seconds"] = max(a["oldest_waiting_seconds"], int(r["waiting"]))
    return {"areas": areas, "bands": [name for name, _ in domain.AGE_BANDS]}


async def get_referral(pool, who: Principal, referral_id: UUID) -> dict:
    """The handoff fields, consent record and timeline of one referral; the read is audited."""
    async with pool.acquire() as conn:
        row = await own(conn, referral_id, who, with_handoff=True)
        events = await store.timeline(conn, referral_id)
        await record_read(conn, who, "referral", [referral_id], row["handoff"].keys())
    out = referral_json(row)
    out.pop("handoff"), out.pop("consent")
    return {**out, "handoff": row["handoff"], "consent": row["consent"],
            "timeline": [{"at": e["at"].isoformat(), "kind": e["kind"], "actor": e["actor"], **e["detail"]}
                         for e in events]}


async def _step(pool, who: Principal, referral_id: UUID, step: Step) -> dict:
    """One adviser step on a referral of the caller's area, in one transaction; the referral after it."""
    async with pool.acquire() as conn, conn.transaction():
        await step(conn, await own(conn, referral_id, who, for_update=True))
        return referral_json(await store.get_referral(conn, referral_id))


async def claim(pool, who: Principal, referral_id: UUID) -> dict:
    return await _step(pool, who, referral_id, lambda conn, row: handlers.claim(conn, row, who.sub, who.name))


async def undo_return(pool, who: Principal, referral_id: UUID) -> dict:
    """Take back a "could not contact" return within a day, before the LA is told."""
    return await _step(pool, who, referral_id, lambda conn, row: handlers.undo_return(conn, row, who.sub, who.name))


async def record_contact(pool, who: Principal, referral_id: UUID, body: ContactIn) -> dict:
    """A contact attempt; the one that would return the young person to the LA raises
    `domain.ConfirmReturn` unless the body confirms it."""
    return await _step(pool, who, referral_id, lambda conn, row: handlers.record_contact(
        conn, row, who.sub, body.method, body.outcome, body.note, correlation_id=uuid4(),
        confirm_return=body.confirm_return, adviser_name=who.name))


async def record_outcome(pool, who: Principal, referral_id: UUID, body: OutcomeIn) -> dict:
    return await _step(pool, who, referral_id, lambda conn, row: handlers.record_outcome(
        conn, row, who.sub, body.activity_code, body.note, uuid4(), provider=body.provider,
        start_date=body.start_date, adviser_name=who.label))


async def seen(conn, who: Principal) -> None:
    """Remember an adviser by name (sign-in's name field, OIDC's `name`), so referrals can be assigned to them."""
    if who.role == "ncs_adviser" and who.ncs_area:
        await store.remember_adviser(conn, who.sub, who.ncs_area, who.label)


async def advisers(pool, who: Principal) -> list[dict]:
    """The caller's area's advisers who have signed in (every area's for an administrator)."""
    async with pool.acquire() as conn:
        await seen(conn, who)
        return [dict(r) for r in await store.advisers_of(conn, area_of(who))]


async def mine(pool, who: Principal) -> int:
    async with pool.acquire() as conn:
        return await store.assigned_count(conn, who.sub)


async def assign(pool, who: Principal, referral_id: UUID, body: AssignIn) -> dict:
    """Assign one referral of the caller's area to a named adviser of that area (handlers.assign)."""
    async with pool.acquire() as conn:
        await seen(conn, who)
    return await _step(pool, who, referral_id, lambda conn, row: handlers.assign(conn, row, who.label, body.assignee))


async def assign_many(pool, who: Principal, body: BulkAssignIn) -> dict:
    """Assign several referrals at once: all or none (another area's referral is a 404 for the whole request)."""
    async with pool.acquire() as conn:
        await seen(conn, who)
        async with conn.transaction():
            for referral_id in dict.fromkeys(body.referral_ids):
                await handlers.assign(conn, await own(conn, referral_id, who, for_update=True), who.label,
                                      body.assignee)
    return {"assigned": len(set(body.referral_ids)), "assignee": body.assignee}
