"""la_tracker's SQL for organising work (casework.py): the LA's staff who have signed in, and
follow-up tasks."""
from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg


async def remember_staff(conn: asyncpg.Connection, sub: str, la: str, name: str) -> None:
    await conn.execute("insert into staff_members (sub, la, name) values ($1, $2, $3) on conflict (sub) do update"
                       " set la = $2, name = $3, seen_at = now()", sub, la, name)


async def staff_of(conn, la: str | None) -> list[asyncpg.Record]:
    """The LA's staff (every LA's when None) by name."""
    return await conn.fetch("select sub, name from staff_members where ($1::text is null or la = $1) order by name", la)


async def staff_name(conn, sub: str, la: str) -> str | None:
    """The name of a member of the LA's staff; None when they are not one (or never signed in)."""
    return await conn.fetchval("select name from staff_members where sub = $1 and la = $2", sub, la)


async def insert_task(conn: asyncpg.Connection, task_id: UUID, case_id: UUID, due_on: date, description: str,
                      assigned_to: str, created_by: str) -> None:
    await conn.execute("insert into case_tasks (task_id, case_id, due_on, description, assigned_to, created_by)"
                       " values ($1, $2, $3, $4, $5, $6)", task_id, case_id, due_on, description, assigned_to,
                       created_by)


async def get_task(conn, task_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow("select * from case_tasks where task_id = $1" + (" for update" if for_update else ""),
                               task_id)


async def mark_task_done(conn: asyncpg.Connection, task_id: UUID, done_by: str) -> None:
    await conn.execute("update case_tasks set done_at = now(), done_by = $2 where task_id = $1", task_id, done_by)


async def tasks_due(conn, la: str | None, on_or_before: date, assigned_to: str | None = None) -> list[asyncpg.Record]:
    """Open follow-up tasks due on or before a date (overdue first), with the young person's name."""
    return await conn.fetch(
        "select t.task_id, t.case_id, t.due_on, t.description, t.assigned_to, c.assigned_name,"
        " y.details->>'given_name' given_name, y.details->>'family_name' family_name from case_tasks t"
        " join cases c using (case_id) join young_people y on y.person_key = c.person_key"
        " where t.done_at is null and t.due_on <= $1 and ($2::text is null or c.responsible_la = $2)"
        " and ($3::text is null or t.assigned_to = $3) order by t.due_on, t.created_at limit 500",
        on_or_before, la, assigned_to)


async def open_tasks(conn, case_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch("select task_id, due_on, description, created_by from case_tasks where case_id = $1"
                            " and done_at is null order by due_on", case_id)
