"""la_tracker HTTP API, beyond the case queue: the LA's policy (the NCCIS return: api_nccis.py; reviews: api_reviews.py)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request

from onward.auth import Principal, require
from onward.la_data import local_authorities
from services.la_tracker import policy, store
from services.la_tracker.wire import PolicyIn

router = APIRouter(prefix="/v1")
la_staff = require("la_staff", "admin")


def _la_of(who: Principal, la: str | None) -> str:
    """LA staff act for their own LA; an admin names one."""
    chosen = who.la if who.role == "la_staff" else la
    if chosen not in local_authorities():
        raise HTTPException(422, [{"field": "la", "message": "name a DfE LA code (admin only)"}])
    return chosen


@router.get("/policy")
async def get_policy(request: Request, who: Principal = Depends(la_staff), la: str | None = None) -> dict:
    chosen = _la_of(who, la)
    async with request.app.state.pool.acquire() as conn:
        return {"la": chosen, **vars(await store.policy_for(conn, chosen))}


@router.put("/policy")
async def put_policy(request: Request, body: PolicyIn, who: Principal = Depends(la_staff), la: str | None = None) -> dict:
    """The LA's routing numbers; only an LA manager (role `la_manager`) or an admin may change them, and
    each change is audited with the values before and after (services/la_tracker/policy.py)."""
    return await policy.change(request, who, _la_of(who, la), body)

