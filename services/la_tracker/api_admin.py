"""la_tracker HTTP API, beyond the case queue: duplicate review, the LA's policy, the NCCIS return."""
from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from onward.audit import record_read
from onward.auth import Principal, require
from onward.la_data import local_authorities
from services.la_tracker import staff, store
from services.la_tracker.wire import PolicyIn, ReviewDecision

router = APIRouter(prefix="/v1")
la_staff = require("la_staff", "admin")


def _la_of(who: Principal, la: str | None) -> str:
    """LA staff act for their own LA; an admin names one."""
    chosen = who.la if who.role == "la_staff" else la
    if chosen not in local_authorities():
        raise HTTPException(422, [{"field": "la", "message": "name a DfE LA code (admin only)"}])
    return chosen


@router.get("/reviews")
async def list_reviews(request: Request, who: Principal = Depends(la_staff),
                       status: Annotated[str, Query(pattern="^(open|merged|kept_apart)$")] = "open") -> dict:
    """Possible duplicates (weaker matches) involving the caller's LA, for a person to decide."""
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(
            "select r.review_id, r.reason, r.status, r.created_at, a.person_key, a.details a_details,"
            " b.person_key candidate_key, b.details b_details from review_queue r"
            " join young_people a on a.person_key = r.person_key join young_people b on b.person_key = r.candidate_key"
            " where r.status = $1 and ($2::text is null or a.responsible_la = $2 or b.responsible_la = $2)"
            " order by r.created_at", status, who.la if who.role == "la_staff" else None)
        fields = ("given_name", "family_name", "date_of_birth", "home_postcode")
        await record_read(conn, who, "review", [r["review_id"] for r in rows], fields)
    return {"items": [{"review_id": str(r["review_id"]), "reason": r["reason"], "status": r["status"],
                       "created_at": r["created_at"].isoformat(),
                       "person": {"person_key": r["person_key"], **{k: r["a_details"][k] for k in fields}},
                       "candidate": {"person_key": r["candidate_key"], **{k: r["b_details"][k] for k in fields}}}
                      for r in rows]}


@router.post("/reviews/{review_id}")
async def decide_review(request: Request, review_id: UUID, body: ReviewDecision,
                        who: Principal = Depends(la_staff)) -> dict:
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        review = await conn.fetchrow(
            "select r.*, a.responsible_la a_la, b.responsible_la b_la from review_queue r"
            " join young_people a on a.person_key = r.person_key join young_people b on b.person_key = r.candidate_key"
            " where r.review_id = $1 for update of r", review_id)
        if review is None or (who.role == "la_staff" and who.la not in (review["a_la"], review["b_la"])):
            raise HTTPException(404, "review not found")
        if review["status"] != "open":
            raise HTTPException(409, f"review already decided: {review['status']}")
        await staff.decide_review(conn, review, who, body.decision, request.app.state.clock())
    return {"review_id": str(review_id), "status": "merged" if body.decision == "merge" else "kept_apart"}


@router.get("/policy")
async def get_policy(request: Request, who: Principal = Depends(la_staff), la: str | None = None) -> dict:
    chosen = _la_of(who, la)
    async with request.app.state.pool.acquire() as conn:
        return {"la": chosen, **vars(await store.policy_for(conn, chosen))}


@router.put("/policy")
async def put_policy(request: Request, body: PolicyIn, who: Principal = Depends(la_staff), la: str | None = None) -> dict:
    """The LA's routing numbers (referral delay, confirmation due period, whether NCS referral needs consent)."""
    chosen = _la_of(who, la)
    await request.app.state.pool.execute(
        "insert into la_policies (la, referral_delay_days, confirmation_due_days, consent_required) values ($1, $2, $3, $4)"
        " on conflict (la) do update set referral_delay_days = $2, confirmation_due_days = $3, consent_required = $4,"
        " updated_at = now()", chosen, body.referral_delay_days, body.confirmation_due_days, body.consent_required)
    return {"la": chosen, **body.model_dump()}
