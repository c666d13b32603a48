"""la_tracker HTTP API, beyond the case queue: the LA's policy, the NCCIS return (reviews: api_reviews.py)."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from onward.audit import record_read
from onward.auth import Principal, require
from onward.la_data import local_authorities
from services.la_tracker import nccis_return, store
from services.la_tracker.wire import PolicyIn

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
