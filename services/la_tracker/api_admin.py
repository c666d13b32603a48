"""la_tracker HTTP API, beyond the case queue: the LA's policy (the NCCIS return: api_nccis.py; reviews: api_reviews.py)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from onward.auth import Principal
from services.la_tracker import policy, queries, store
from services.la_tracker.queries import la_staff
from services.la_tracker.wire import PolicyIn

router = APIRouter(prefix="/v1")


@router.get("/policy")
async def get_policy(request: Request, who: Principal = Depends(la_staff), la: str | None = None) -> dict:
    chosen = queries.la_of(who, la)
    async with request.app.state.pool.acquire() as conn:
        return {"la": chosen, **vars(await store.policy_for(conn, chosen))}


@router.put("/policy")
async def put_policy(request: Request, body: PolicyIn, who: Principal = Depends(la_staff), la: str | None = None) -> dict:
    """The LA's routing numbers; only an LA manager (role `la_manager`) or an admin may change them, and
    each change is audited with the values before and after (services/la_tracker/policy.py)."""
    return await policy.change(request.app.state.pool, who, queries.la_of(who, la), body)

