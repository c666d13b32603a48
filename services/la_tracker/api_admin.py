"""la_tracker HTTP API, beyond the case queue: duplicate review, the LA's policy, the NCCIS return."""
from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from onward.audit import record_read
from onward.auth import Principal, require
from onward.la_data import local_authorities
from services.la_tracker import nccis_return, policy, staff, store
from services.la_tracker.wire import PolicyIn, ReviewDecision

router = APIRouter(prefix="/v1")
# The personal data a monthly return carries, as the audit records it.
RETURN_FIELDS = ("given_name", "family_name", "date_of_birth", "address_lines", "home_postcode", "upn", "uln",
                 "send", "characteristics", "activity")
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
    """The LA's routing numbers; only an LA manager (role `la_manager`) or an admin may change them, and
    each change is audited with the values before and after (services/la_tracker/policy.py)."""
    return await policy.change(request, who, _la_of(who, la), body)


async def _return_records(request: Request, who: Principal, la: str | None, period_end: date):
    chosen = _la_of(who, la)
    async with request.app.state.pool.acquire() as conn:
        people = await conn.fetch("select * from young_people where responsible_la = $1 and merged_into is null"
                                  " order by ypid", chosen)
        included = [p for p in people if nccis_return.in_return(p, period_end)]
        await record_read(conn, who, "young_person", [p["person_key"] for p in included], RETURN_FIELDS,
                          action="nccis_return")
    return chosen, [nccis_return.record(p, period_end) for p in included]


@router.get("/exports/nccis.xml")
async def nccis_xml(request: Request, period_end: date, who: Principal = Depends(la_staff),
                    la: str | None = None) -> Response:
    chosen, records = await _return_records(request, who, la, period_end)
    body = nccis_return.to_xml(records, chosen, period_end, request.app.state.clock())
    return Response(body, media_type="application/xml", headers={
        "Content-Disposition": f'attachment; filename="nccis-{chosen}-{period_end.isoformat()}.xml"'})


@router.get("/exports/nccis.csv")
async def nccis_csv(request: Request, period_end: date, who: Principal = Depends(la_staff),
                    la: str | None = None) -> Response:
    chosen, records = await _return_records(request, who, la, period_end)
    return Response(nccis_return.to_csv(records), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="nccis-{chosen}-{period_end.isoformat()}.csv"'})
