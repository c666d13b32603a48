"""school_exit's SQL (asyncpg)."""
from __future__ import annotations

from uuid import UUID

import asyncpg


async def insert_leavers(conn: asyncpg.Connection, rows: list[tuple]) -> set[UUID]:
    """Insert new leaver reports in one statement; return the ids actually inserted.

    `rows` are (leaver_id, person_key, upn, laestab, leaving_date, content_hash, body); a report whose
    (UPN, school, leaving date) already exists is skipped (the caller treats it as a resend).
    """
    cols = list(zip(*rows))
    inserted = await conn.fetch(
        "insert into leavers (leaver_id, person_key, upn, school_laestab, leaving_date, content_hash, body)"
        " select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::date[], $6::text[], $7::jsonb[])"
        " on conflict (upn, school_laestab, leaving_date) do nothing returning leaver_id",
        *cols,
    )
    return {r["leaver_id"] for r in inserted}


async def lock_leavers_by_report(conn: asyncpg.Connection, keys: list[tuple]) -> dict[tuple, asyncpg.Record]:
    """Existing reports for (upn, laestab, leaving_date) keys, locked for update."""
    upns, laestabs, dates = (list(c) for c in zip(*keys))
    rows = await conn.fetch(
        "select leaver_id, upn, school_laestab, leaving_date, person_key, revision, content_hash, onward_status"
        " from leavers where (upn, school_laestab, leaving_date) in"
        " (select * from unnest($1::text[], $2::text[], $3::date[])) order by leaver_id for update",
        upns, laestabs, dates,
    )
    return {(r["upn"], r["school_laestab"], r["leaving_date"]): r for r in rows}


async def update_leaver(conn: asyncpg.Connection, leaver_id: UUID, content_hash: str, body: dict) -> int:
    return await conn.fetchval(
        "update leavers set body = $2, content_hash = $3, revision = revision + 1, updated_at = now()"
        " where leaver_id = $1 returning revision",
        leaver_id, body, content_hash,
    )


async def get_leaver(conn, leaver_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "select leaver_id, person_key, school_laestab, revision, body, onward_status, onward_status_at,"
        " created_at, updated_at from leavers where leaver_id = $1" + (" for update" if for_update else ""),
        leaver_id,
    )


async def set_onward_status(conn: asyncpg.Connection, leaver_id: UUID, status: str, kind: str, detail: dict) -> None:
    await conn.execute(
        "update leavers set onward_status = $2, onward_status_at = now() where leaver_id = $1", leaver_id, status)
    await conn.execute(
        "insert into leaver_timeline (leaver_id, kind, detail) values ($1, $2, $3)", leaver_id, kind, detail)


async def set_destination(conn: asyncpg.Connection, leaver_id: UUID, destination: dict) -> None:
    await conn.execute(
        "update leavers set body = jsonb_set(body, '{destination}', $2::jsonb), updated_at = now()"
        " where leaver_id = $1", leaver_id, destination)


async def timeline(conn, leaver_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "select at, kind, detail from leaver_timeline where leaver_id = $1 order by id", leaver_id)
