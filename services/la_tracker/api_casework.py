"""la_tracker HTTP API for casework (added December 2026): the handoff's words, assignment, follow-up
tasks, notes and the LA's policy history. Scoping, audit and errors are services/la_tracker/queries.py's."""
from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Depends, Request

from onward.auth import Principal
from services.la_tracker import policy, queries, store_casework
from services.la_tracker.queries import la_staff
from services.la_tracker.casework_wire import AssignIn, BulkAssignIn, HandoffIn, NoteIn, TaskIn

router = APIRouter(prefix="/v1")


@router.put("/cases/{case_id}/handoff")
async def set_handoff(request: Request, case_id: UUID, body: HandoffIn, who: Principal = Depends(la_staff)) -> dict:
    """What the LA learned for an NCS adviser; it goes with the next referral."""
    return await queries.set_handoff(request.app.state.pool, case_id, who, body)


@router.get("/policy/changes")
async def policy_changes(request: Request, who: Principal = Depends(la_staff), la: str | None = None) -> dict:
    """Who changed the LA's routing policy, when, and the values before and after."""
    async with request.app.state.pool.acquire() as conn:
        return {"items": await policy.changes(conn, queries.la_of(who, la))}


@router.put("/cases/{case_id}/assignee")
async def assign(request: Request, case_id: UUID, body: AssignIn, who: Principal = Depends(la_staff)) -> dict:
    """Assign the case to a named worker of its LA (`assignee` is their staff id; null unassigns)."""
    return await queries.assign(request.app.state.pool, case_id, who, body)


@router.post("/cases/assign")
async def assign_many(request: Request, body: BulkAssignIn, who: Principal = Depends(la_staff)) -> dict:
    """Assign several cases at once; all or none (another LA's case is a 404 for the whole request)."""
    return await queries.assign_many(request.app.state.pool, who, body)


@router.post("/cases/{case_id}/tasks", status_code=201)
async def add_task(request: Request, case_id: UUID, body: TaskIn, who: Principal = Depends(la_staff)) -> dict:
    return await queries.add_task(request.app.state.pool, case_id, who, body)


@router.post("/tasks/{task_id}/done")
async def complete_task(request: Request, task_id: UUID, who: Principal = Depends(la_staff)) -> dict:
    return await queries.complete_task(request.app.state.pool, task_id, who)


@router.get("/tasks")
async def tasks(request: Request, who: Principal = Depends(la_staff), mine: bool = False,
                due_by: date | None = None) -> dict:
    """Follow-up tasks due today (or by `due_by`), overdue first; `mine=true`: the caller's only."""
    return await queries.tasks(request.app.state.pool, who, due_by or request.app.state.clock(), mine=mine)


@router.post("/cases/{case_id}/notes", status_code=201)
async def add_note(request: Request, case_id: UUID, body: NoteIn, who: Principal = Depends(la_staff)) -> dict:
    return await queries.add_note(request.app.state.pool, case_id, who, body)


@router.get("/staff")
async def staff_members(request: Request, who: Principal = Depends(la_staff)) -> dict:
    """The LA's staff who have signed in: whom a case can be assigned to."""
    await queries.seen(request.app.state.pool, who)
    async with request.app.state.pool.acquire() as conn:
        return {"items": [dict(r) for r in await store_casework.staff_of(conn, who.la)]}
