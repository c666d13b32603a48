"""ncs_referral's SQL (asyncpg)."""
from __future__ import annotations

from uuid import UUID

import asyncpg

COLUMNS = ("referral_id, case_id, person_key, responsible_la, ncs_area, status, reason, priority, claimed_by,"
           " status_reason, outcome_code, claimed_at, failed_contacts, received_at, updated_at,"
           " return_after_attempts, return_after_days, returned_at, return_sent_at, claimed_by_name")


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


async def queue_ages(conn, area: str | None) -> list[asyncpg.Record]:
    """Waiting seconds of every unclaimed referral, per area (all areas when `area` is None)."""
    return await conn.fetch(
        "select ncs_area, extract(epoch from now() - received_at)::float8 as waiting from referrals"
        " where status = 'new' and ($1::text is null or ncs_area = $1)", area)


async def failed_attempts(conn, referral_id: UUID, outcomes: list[str]) -> list[tuple]:
    """Earlier unanswered contact attempts: (day in Europe/London, channel), oldest first."""
    rows = await conn.fetch(
        "select (at at time zone 'Europe/London')::date as day, detail->>'method' as method from referral_timeline"
        " where referral_id = $1 and kind = 'contact' and detail->>'outcome' = any($2) order by id",
        referral_id, outcomes)
    return [(r["day"], r["method"]) for r in rows]
