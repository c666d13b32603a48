"""ncs_referral's SQL (asyncpg): every statement the service runs, apart from its retention rules."""
from __future__ import annotations

from uuid import UUID

import asyncpg

from onward.listing import Query as Where, order_by, page
from services.ncs_referral import domain, search

COLUMNS = ("referral_id, case_id, person_key, responsible_la, ncs_area, status, reason, priority, claimed_by,"
           " status_reason, outcome_code, claimed_at, failed_contacts, received_at, updated_at,"
           " return_after_attempts, return_after_days, returned_at, return_sent_at, claimed_by_name,"
           " assigned_to, assigned_name")
SORTS = {key: key for key in ("priority", "received_at", "updated_at", "status")}  # sort key -> column


async def insert_referral(conn: asyncpg.Connection, **values) -> bool:
    cols = ", ".join(values)
    params = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    inserted = await conn.fetchval(
        f"insert into referrals ({cols}) values ({params}) on conflict (referral_id) do nothing returning true",
        *values.values())
    return bool(inserted)


async def get_referral(conn, referral_id: UUID, *, for_update: bool = False, with_handoff: bool = False):
    cols = COLUMNS + (", handoff, consent" if with_handoff else "")
    return await conn.fetchrow(f"select {cols} from referrals where referral_id = $1"
                               + (" for update" if for_update else ""), referral_id)


async def update_referral(conn: asyncpg.Connection, referral_id: UUID, **changes) -> None:
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(changes, start=2))
    await conn.execute(f"update referrals set {sets}, updated_at = now() where referral_id = $1",
                       referral_id, *changes.values())


async def add_timeline(conn: asyncpg.Connection, referral_id: UUID, kind: str, actor: str, detail: dict) -> None:
    await conn.execute("insert into referral_timeline (referral_id, kind, actor, detail) values ($1, $2, $3, $4)",
                       referral_id, kind, actor, detail)


async def timeline(conn, referral_id: UUID):
    return await conn.fetch("select at, kind, actor, detail from referral_timeline where referral_id = $1 order by id",
                            referral_id)


async def referral_page(conn, *, ncs_area: str | None, status: str | None, priority: int | None,
                        min_waiting_hours: float | None, person_key: str | None, sort: str | None, page_no: int,
                        page_size: int, q: str | None = None, assigned_to: str | None = None) -> dict:
    """One page of referrals (all areas when `ncs_area` is None), filtered and sorted by `SORTS`' keys;
    `assigned_to` is an adviser's sub, or "" for the unassigned."""
    where = Where()
    for sql, value in (("ncs_area = {}", ncs_area), ("status = {}", status), ("priority = {}", priority),
                       ("person_key = {}", person_key), ("assigned_to = {}", assigned_to or None)):
        if value is not None:
            where.where(sql, value)
    if assigned_to == "":
        where.where("assigned_to is null")
    if min_waiting_hours is not None:
        where.where("received_at <= now() - make_interval(secs => {})", min_waiting_hours * 3600)
    if q:
        search.add_search(where, q)
    return await page(conn, f"select {COLUMNS}", "from referrals", where,
                      order_by(sort, SORTS, "priority", "referral_id"), page_no, page_size)


async def status_counts(conn, ncs_area: str | None) -> dict[str, int]:
    """How many referrals of the area (all areas when None) are in each status."""
    rows = await conn.fetch("select status, count(*) from referrals where ($1::text is null or ncs_area = $1)"
                            " group by status", ncs_area)
    return {r["status"]: r["count"] for r in rows}


async def names(conn, referral_ids: list[UUID]) -> dict[UUID, str]:
    """Given and family name of each referral's young person (personal data: the caller audits the read)."""
    rows = await conn.fetch("select referral_id, handoff->>'given_name' given_name, handoff->>'family_name'"
                            " family_name from referrals where referral_id = any($1)", referral_ids)
    return {r["referral_id"]: f"{r['given_name']} {r['family_name']}" for r in rows}


async def queue_ages(conn, area: str | None) -> list[asyncpg.Record]:
    """Waiting seconds of every unclaimed referral, per area (all areas when `area` is None)."""
    return await conn.fetch(
        "select ncs_area, extract(epoch from now() - received_at)::float8 as waiting from referrals"
        " where status = $2 and ($1::text is null or ncs_area = $1)", area, domain.NEW)


async def stale_claims(conn, older_than_days: int, limit: int) -> list[asyncpg.Record]:
    """Referrals claimed more than `older_than_days` ago and still being worked, locked (`SKIP LOCKED`
    lets several worker replicas sweep at once without taking the same referral twice)."""
    return await conn.fetch(
        f"select {COLUMNS} from referrals where status = any($3::text[])"
        " and claimed_at < now() - make_interval(days => $1) order by claimed_at limit $2 for update skip locked",
        older_than_days, limit, sorted(domain.WORKING))


async def erase_people(conn, person_keys: list[str]) -> None:
    """Delete the referrals (handoff, consent, timeline) held under any of these person keys."""
    await conn.execute("delete from referral_timeline where referral_id in (select referral_id from referrals"
                       " where person_key = any($1))", person_keys)
    await conn.execute("delete from referrals where person_key = any($1)", person_keys)


async def failed_attempts(conn, referral_id: UUID, outcomes: list[str]) -> list[tuple]:
    """Earlier unanswered contact attempts: (day in Europe/London, channel), oldest first."""
    rows = await conn.fetch(
        "select (at at time zone 'Europe/London')::date as day, detail->>'method' as method from referral_timeline"
        " where referral_id = $1 and kind = 'contact' and detail->>'outcome' = any($2) order by id",
        referral_id, outcomes)
    return [(r["day"], r["method"]) for r in rows]


async def remember_adviser(conn, sub: str, ncs_area: str, name: str) -> None:
    """An adviser seen signing in or acting, by name, so referrals can be assigned to them."""
    await conn.execute("insert into advisers (sub, ncs_area, name) values ($1, $2, $3) on conflict (sub) do update"
                       " set ncs_area = $2, name = $3, seen_at = now()", sub, ncs_area, name)


async def advisers_of(conn, ncs_area: str | None) -> list[asyncpg.Record]:
    """The advisers of an area (every area when None) who have signed in, by name."""
    return await conn.fetch("select sub, name, ncs_area from advisers where ($1::text is null or ncs_area = $1)"
                            " order by name, sub", ncs_area)


async def adviser_name(conn, sub: str, ncs_area: str) -> str | None:
    return await conn.fetchval("select name from advisers where sub = $1 and ncs_area = $2", sub, ncs_area)


async def assigned_count(conn, sub: str) -> int:
    """How many open referrals are assigned to this adviser ("My referrals")."""
    return await conn.fetchval("select count(*) from referrals where assigned_to = $1 and status = any($2::text[])",
                               sub, sorted(domain.OPEN))


async def returns_due(conn, undo_window, limit: int) -> list[asyncpg.Record]:
    """Returns to the LA older than the undo window and not yet sent, with the adviser's last note;
    locked, skipping those another replica holds."""
    return await conn.fetch(
        f"select {COLUMNS}, note from (select *, (select detail->>'note' from referral_timeline t"
        " where t.referral_id = r.referral_id and kind = 'outcome' order by id desc limit 1) note from referrals r"
        " where status = 'returned_to_la' and return_sent_at is null and returned_at < now() - $1::interval"
        " order by returned_at limit $2 for update skip locked) due", undo_window, limit)
