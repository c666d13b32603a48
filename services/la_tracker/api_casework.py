"""la_tracker HTTP API for casework (added December 2026): the handoff's words, assignment, follow-up
tasks, notes and the LA's policy history. Scoping and errors are the case API's (api.py)."""
from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Request

from onward.auth import Principal
from services.la_tracker import api, policy, staff
from services.la_tracker.casework_wire import HandoffIn

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
