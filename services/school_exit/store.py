"""school_exit's SQL (asyncpg)."""
from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg

from onward.listing import Query, page


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


# The school's pages: its own leavers only (every query is scoped by school_laestab).
LEAVER_LIST = ("select leaver_id, upn, leaving_date, onward_status, onward_status_at, body->>'given_name' given_name,"
               " body->>'family_name' family_name, body->'destination' destination")


def leaver_filters(laestab: str, since: date | None, until: date | None, status: str | None, q: str | None) -> Query:
    """Conditions of the school's leaver list. `q` matches any part of a name, or a whole UPN."""
    query = Query().where("school_laestab = {}", laestab)
    if since and until:
        query.where("leaving_date between {} and {}", since, until)
    if status:
        query.where("onward_status = {}", status)
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query.where("(upn = {} or body->>'given_name' ilike {} or body->>'family_name' ilike {}"
                    " or (body->>'given_name') || ' ' || (body->>'family_name') ilike {})", q.upper(), like, like, like)
    return query


async def list_leavers(conn, query: Query, page_no: int, page_size: int) -> dict:
    return await page(conn, LEAVER_LIST, "from leavers", query,
                      " order by leaving_date desc, body->>'family_name', body->>'given_name'", page_no, page_size)


async def status_counts(conn, query: Query) -> dict[str, int]:
    rows = await conn.fetch(f"select onward_status, count(*) n from leavers{query.where_sql()} group by 1", *query.params)
    return {r["onward_status"]: r["n"] for r in rows}


async def leaving_dates(conn, laestab: str) -> list[date]:
    """The distinct leaving dates of a school (for its list of leaving years)."""
    return [r["leaving_date"] for r in await conn.fetch(
        "select distinct leaving_date from leavers where school_laestab = $1", laestab)]


async def best_known_activities(conn, laestab: str, since: date) -> list[asyncpg.Record]:
    """Per leaver since a date: leaving date, the school's own destination, and the LA's latest activity code
    (from the case feedback on the leaver's timeline)."""
    return await conn.fetch(
        "select l.leaving_date, l.body->'destination' destination,"
        " (select t.detail->>'activity_code' from leaver_timeline t where t.leaver_id = l.leaver_id"
        "   and t.kind = 'case_status_changed' and t.detail->>'activity_code' is not null"
        "   order by t.id desc limit 1) la_activity"
        " from leavers l where l.school_laestab = $1 and l.leaving_date >= $2", laestab, since)


async def add_timelines(conn: asyncpg.Connection, kind: str, entries: list[tuple[UUID, dict]]) -> None:
    """One timeline entry per (leaver_id, detail), in order; a leaver not (or no longer) held is skipped."""
    await conn.execute(
        "insert into leaver_timeline (leaver_id, kind, detail)"
        " select v.id, $3::text, v.detail from unnest($1::uuid[], $2::jsonb[]) with ordinality"
        " v(id, detail, n) where exists (select 1 from leavers l where l.leaver_id = v.id) order by v.n",
        [leaver_id for leaver_id, _ in entries], [detail for _, detail in entries], kind)


async def set_onward_statuses(conn: asyncpg.Connection, statuses: dict[UUID, str]) -> None:
    await conn.execute(
        "update leavers l set onward_status = v.status, onward_status_at = now()"
        " from unnest($1::uuid[], $2::text[]) v(id, status) where l.leaver_id = v.id",
        list(statuses), list(statuses.values()))


async def erase_person(conn: asyncpg.Connection, pkey: str) -> int:
    """Delete a young person's leaver reports and their timelines; how many reports there were."""
    await conn.execute("delete from leaver_timeline where leaver_id in"
                       " (select leaver_id from leavers where person_key = $1)", pkey)
    return int((await conn.execute("delete from leavers where person_key = $1", pkey)).split()[-1])
