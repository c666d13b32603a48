"""la_tracker HTTP API for casework (added December 2026): the handoff's words, assignment, follow-up
tasks, notes and the LA's policy history. Scoping and errors are the case API's (api.py)."""
from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request

from onward.audit import record_read
from onward.auth import Principal
from services.la_tracker import api, casework, policy, staff
from services.la_tracker.casework_wire import AssignIn, BulkAssignIn, HandoffIn, NoteIn, TaskIn
from services.la_tracker.staff import NotAllowed

router = APIRouter(prefix="/v1")


@router.put("/cases/{case_id}/handoff")
async def set_handoff(request: Request, case_id: UUID, body: HandoffIn, who: Principal = Depends(api.la_staff)) -> dict:
    """What the LA learned for an NCS adviser; it goes with the next referral."""
    return await api._act(request, case_id, who, lambda conn, case: staff.set_handoff(
        conn, case, who, body.model_dump()))


@router.get("/policy/changes")
async def policy_changes(request: Request, who: Principal = Depends(api.la_staff), la: str | None = None) -> dict:
    """Who changed the LA's routing policy, when, and the values before and after."""
    from services.la_tracker.api_admin import _la_of

    async with request.app.state.pool.acquire() as conn:
        return {"items": await policy.changes(conn, _la_of(who, la))}


@router.put("/cases/{case_id}/assignee")
async def assign(request: Request, case_id: UUID, body: AssignIn, who: Principal = Depends(api.la_staff)) -> dict:
    """Assign the case to a named worker of its LA (`assignee` is their staff id; null unassigns)."""
    await _seen(request, who)
    return await api._act(request, case_id, who, lambda conn, case: casework.assign(conn, case, who, body.assignee))


@router.post("/cases/assign")
async def assign_many(request: Request, body: BulkAssignIn, who: Principal = Depends(api.la_staff)) -> dict:
    """Assign several cases at once; all or none (another LA's case is a 404 for the whole request)."""
    await _seen(request, who)
    try:
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            for case_id in body.case_ids:
                case = await api._own_case(conn, case_id, who, for_update=True)
                await casework.assign(conn, case, who, body.assignee)
    except NotAllowed as exc:
        raise HTTPException(409, str(exc)) from None
    return {"assigned": len(body.case_ids), "assignee": body.assignee}


@router.post("/cases/{case_id}/tasks", status_code=201)
async def add_task(request: Request, case_id: UUID, body: TaskIn, who: Principal = Depends(api.la_staff)) -> dict:
    async def action(conn, case):
        return {"task_id": str(await casework.add_task(conn, case, who, body.due_on, body.description))}
    return await api._act(request, case_id, who, action)


@router.post("/tasks/{task_id}/done")
async def complete_task(request: Request, task_id: UUID, who: Principal = Depends(api.la_staff)) -> dict:
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        task = await conn.fetchrow("select * from case_tasks where task_id = $1 for update", task_id)
        if task is None:
            raise HTTPException(404, "task not found")
        await api._own_case(conn, task["case_id"], who)  # another LA's task is a 404 too
        try:
            await casework.complete_task(conn, task, who)
        except NotAllowed as exc:
            raise HTTPException(409, str(exc)) from None
    return {"task_id": str(task_id), "done": True}


@router.get("/tasks")
async def tasks(request: Request, who: Principal = Depends(api.la_staff), mine: bool = False,
                due_by: date | None = None) -> dict:
    """Follow-up tasks due today (or by `due_by`), overdue first; `mine=true`: the caller's only."""
    async with request.app.state.pool.acquire() as conn:
        rows = await casework.tasks_due(conn, who.la, due_by or request.app.state.clock(),
                                        who.sub if mine else None)
        await record_read(conn, who, "case", {r["case_id"] for r in rows}, ("given_name", "family_name"), action="list")
    return {"items": [{k: (str(v) if isinstance(v, (UUID, date)) else v) for k, v in dict(r).items()} for r in rows]}


@router.post("/cases/{case_id}/notes", status_code=201)
async def add_note(request: Request, case_id: UUID, body: NoteIn, who: Principal = Depends(api.la_staff)) -> dict:
    return await api._act(request, case_id, who, lambda conn, case: casework.add_note(conn, case, who, body.text))


@router.get("/staff")
async def staff_members(request: Request, who: Principal = Depends(api.la_staff)) -> dict:
    """The LA's staff who have signed in: whom a case can be assigned to."""
    await _seen(request, who)
    async with request.app.state.pool.acquire() as conn:
        return {"items": [dict(r) for r in await casework.staff_of(conn, who.la)]}


async def _seen(request: Request, who: Principal) -> None:
    async with request.app.state.pool.acquire() as conn:
        await casework.seen(conn, who)
