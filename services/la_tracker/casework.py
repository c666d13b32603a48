"""What LA staff do to organise their work: assign cases to a named worker, follow-up tasks with due
dates, and notes not tied to a contact. Every change is on the case's timeline, by name."""
from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import asyncpg

from onward.auth import Principal
from services.la_tracker import store
from services.la_tracker.staff import NotAllowed


async def seen(conn: asyncpg.Connection, who: Principal) -> None:
    """Remember a member of an LA's staff by name, so cases can be assigned to them."""
    if who.la:
        await conn.execute("insert into staff_members (sub, la, name) values ($1, $2, $3) on conflict (sub) do update"
                           " set la = $2, name = $3, seen_at = now()", who.sub, who.la, who.label)


async def staff_of(conn, la: str | None) -> list[asyncpg.Record]:
    return await conn.fetch("select sub, name from staff_members where ($1::text is null or la = $1) order by name", la)


async def assign(conn: asyncpg.Connection, case, who: Principal, assignee: str | None) -> None:
    """Assign to a named member of the case's LA (or nobody); someone of another LA is refused."""
    name = None
    if assignee is not None:
        name = await conn.fetchval("select name from staff_members where sub = $1 and la = $2", assignee,
                                   case["responsible_la"])
        if name is None:
            raise NotAllowed("assignee is not a member of this LA's staff who has signed in")
    if case["assigned_to"] == assignee:
        return
    await store.update_case(conn, case["case_id"], assigned_to=assignee, assigned_name=name)
    await store.add_timeline(conn, case["case_id"], "assigned" if assignee else "unassigned", who.label,
                             {"to": name} if name else {})


async def add_task(conn: asyncpg.Connection, case, who: Principal, due_on: date, description: str) -> UUID:
    task_id = uuid4()
    await conn.execute("insert into case_tasks (task_id, case_id, due_on, description, assigned_to, created_by)"
                       " values ($1, $2, $3, $4, $5, $6)", task_id, case["case_id"], due_on, description,
                       case["assigned_to"] or who.sub, who.label)
    await store.add_timeline(conn, case["case_id"], "task_added", who.label,
                             {"task": description, "due_on": due_on.isoformat()})
    return task_id


async def complete_task(conn: asyncpg.Connection, task, who: Principal) -> None:
    if task["done_at"] is not None:
        raise NotAllowed("the task is already done")
    await conn.execute("update case_tasks set done_at = now(), done_by = $2 where task_id = $1", task["task_id"],
                       who.label)
    await store.add_timeline(conn, task["case_id"], "task_done", who.label, {"task": task["description"]})


async def add_note(conn: asyncpg.Connection, case, who: Principal, text: str) -> None:
    await store.add_timeline(conn, case["case_id"], "note", who.label, {"note": text})


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
