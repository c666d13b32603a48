"""What LA staff do to organise their work: assign cases to a named worker, follow-up tasks with due
dates, and notes not tied to a contact. Every change is on the case's timeline, by name."""
from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import asyncpg

from onward.auth import Principal
from services.la_tracker import store, store_casework
from services.la_tracker.staff import NotAllowed


async def seen(conn: asyncpg.Connection, who: Principal) -> None:
    """Remember a member of an LA's staff by name, so cases can be assigned to them."""
    if who.la:
        await store_casework.remember_staff(conn, who.sub, who.la, who.label)


async def assign(conn: asyncpg.Connection, case, who: Principal, assignee: str | None) -> None:
    """Assign to a named member of the case's LA (or nobody); someone of another LA is refused."""
    name = None
    if assignee is not None:
        name = await store_casework.staff_name(conn, assignee, case["responsible_la"])
        if name is None:
            raise NotAllowed("assignee is not a member of this LA's staff who has signed in")
    if case["assigned_to"] == assignee:
        return
    await store.update_case(conn, case["case_id"], assigned_to=assignee, assigned_name=name)
    await store.add_timeline(conn, case["case_id"], "assigned" if assignee else "unassigned", who.label,
                             {"to": name} if name else {})


async def add_task(conn: asyncpg.Connection, case, who: Principal, due_on: date, description: str) -> UUID:
    task_id = uuid4()
    await store_casework.insert_task(conn, task_id, case["case_id"], due_on, description,
                                     case["assigned_to"] or who.sub, who.label)
    await store.add_timeline(conn, case["case_id"], "task_added", who.label,
                             {"task": description, "due_on": due_on.isoformat()})
    return task_id


async def complete_task(conn: asyncpg.Connection, task, who: Principal) -> None:
    if task["done_at"] is not None:
        raise NotAllowed("the task is already done")
    await store_casework.mark_task_done(conn, task["task_id"], who.label)
    await store.add_timeline(conn, task["case_id"], "task_done", who.label, {"task": task["description"]})


async def add_note(conn: asyncpg.Connection, case, who: Principal, text: str) -> None:
    await store.add_timeline(conn, case["case_id"], "note", who.label, {"note": text})
