"""la_tracker's SQL (asyncpg)."""
from __future__ import annotations

from uuid import UUID

import asyncpg

from services.la_tracker.domain import Policy

CASE_COLUMNS = ("case_id, person_key, leaver_id, responsible_la, status, reason, priority, activity_code,"
                " referral_id, referral_status, referral_due_on, due_on, opened_at, updated_at")


async def policy_for(conn: asyncpg.Connection, la: str) -> Policy:
    row = await conn.fetchrow(
        "select referral_delay_days, confirmation_due_days, consent_required from la_policies where la = $1", la)
    return Policy(**dict(row)) if row else Policy()


async def upsert_young_person(conn: asyncpg.Connection, *, person_key: str, leaver_id: UUID | None,
                              responsible_la: str, details: dict, facts: dict, activity_code: str | None,
                              activity_status: str | None) -> None:
    await conn.execute(
        "insert into young_people (person_key, leaver_id, responsible_la, details, facts, activity_code, activity_status)"
        " values ($1, $2, $3, $4, $5, $6, $7) on conflict (person_key) do update set leaver_id = excluded.leaver_id,"
        " responsible_la = excluded.responsible_la, details = excluded.details, facts = excluded.facts,"
        " activity_code = excluded.activity_code, activity_status = excluded.activity_status, updated_at = now()",
        person_key, leaver_id, responsible_la, details, facts, activity_code, activity_status,
    )


async def get_young_person(conn, person_key: str, *, for_update: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "select * from young_people where person_key = $1" + (" for update" if for_update else ""), person_key)


async def set_activity(conn: asyncpg.Connection, person_key: str, code: str | None, status: str | None) -> None:
    await conn.execute(
        "update young_people set activity_code = $2, activity_status = $3, updated_at = now() where person_key = $1",
        person_key, code, status)


async def case_of_person(conn, person_key: str, la: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"select {CASE_COLUMNS} from cases where person_key = $1 and responsible_la = $2 for update", person_key, la)


async def get_case(conn, case_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"select {CASE_COLUMNS} from cases where case_id = $1" + (" for update" if for_update else ""), case_id)


async def insert_case(conn: asyncpg.Connection, **values) -> None:
    cols = ", ".join(values)
    params = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    await conn.execute(f"insert into cases ({cols}) values ({params})", *values.values())


async def update_case(conn: asyncpg.Connection, case_id: UUID, **changes) -> None:
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(changes, start=2))
    await conn.execute(f"update cases set {sets}, updated_at = now() where case_id = $1", case_id, *changes.values())


async def add_timeline(conn: asyncpg.Connection, case_id: UUID, kind: str, actor: str, detail: dict) -> None:
    await conn.execute("insert into case_timeline (case_id, kind, actor, detail) values ($1, $2, $3, $4)",
                       case_id, kind, actor, detail)


async def timeline(conn, case_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch("select at, kind, actor, detail from case_timeline where case_id = $1 order by id", case_id)
