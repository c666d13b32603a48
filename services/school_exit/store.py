"""school_exit's SQL (asyncpg)."""
from __future__ import annotations

from uuid import UUID

import asyncpg


async def insert_leaver(conn: asyncpg.Connection, *, leaver_id: UUID, person_key: str, upn: str, laestab: str,
                        leaving_date, content_hash: str, body: dict) -> bool:
    """Insert a new leaver report; False when (UPN, school, leaving date) is already reported."""
    row = await conn.fetchval(
        "insert into leavers (leaver_id, person_key, upn, school_laestab, leaving_date, content_hash, body)"
        " values ($1, $2, $3, $4, $5, $6, $7) on conflict (upn, school_laestab, leaving_date) do nothing"
        " returning leaver_id",
        leaver_id, person_key, upn, laestab, leaving_date, content_hash, body,
    )
    return row is not None


async def lock_leaver_by_report(conn: asyncpg.Connection, upn: str, laestab: str, leaving_date) -> asyncpg.Record:
    return await conn.fetchrow(
        "select leaver_id, person_key, revision, content_hash, onward_status from leavers"
        " where upn = $1 and school_laestab = $2 and leaving_date = $3 for update",
        upn, laestab, leaving_date,
    )


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
