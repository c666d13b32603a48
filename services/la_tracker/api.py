"""la_tracker HTTP API (design.md, fixed contract). LA staff see only their own LA's cases."""
from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request

from onward.audit import record_read
from onward.auth import Principal, require
from onward.http import create_app
from onward.listing import Query as Where, order_by, page
from onward.settings import Settings, get_settings
from services.la_tracker import domain, store

router = APIRouter(prefix="/v1")
staff = require("la_staff", "admin")
CASE_SORTS = {"priority": "priority", "opened_at": "opened_at", "updated_at": "updated_at", "status": "status"}
PERSONAL_FIELDS = ("given_name", "family_name", "date_of_birth", "home_postcode", "address_lines", "email", "phone",
                   "upn", "uln")


def _scoped(who: Principal, where: Where) -> Where:
    if who.role == "la_staff":
        where.where("responsible_la = {}", who.la)
    return where


def _case_json(r) -> dict:
    out = {k: (str(v) if isinstance(v, UUID) else v) for k, v in dict(r).items()}
    for k in ("opened_at", "updated_at", "referral_due_on", "due_on"):
        if out.get(k) is not None:
            out[k] = out[k].isoformat()
    return out


@router.get("/cases")
async def list_cases(request: Request, who: Principal = Depends(staff),
                     status: Annotated[str | None, Query()] = None, priority: Annotated[int | None, Query(ge=1, le=3)] = None,
                     person_key: Annotated[str | None, Query(max_length=64)] = None,
                     sort: str | None = None, page_no: Annotated[int, Query(alias="page", ge=1)] = 1,
                     page_size: Annotated[int, Query(ge=1, le=200)] = 50) -> dict:
    if status is not None and status not in domain.CASE_STATUSES:
        raise HTTPException(422, [{"field": "status", "message": f"status must be one of {', '.join(domain.CASE_STATUSES)}"}])
    where = _scoped(who, Where())
    if status:
        where.where("status = {}", status)
    if priority:
        where.where("priority = {}", priority)
    if person_key:
        where.where("person_key = {}", person_key)
    async with request.app.state.pool.acquire() as conn:
        result = await page(conn, f"select {store.CASE_COLUMNS}", "from cases", where,
                            order_by(sort, CASE_SORTS, "priority", "case_id"), page_no, page_size)
    result["items"] = [_case_json(r) for r in result["items"]]
    return result


@router.get("/cases/{case_id}")
async def get_case(request: Request, case_id: UUID, who: Principal = Depends(staff)) -> dict:
    async with request.app.state.pool.acquire() as conn:
        case = await store.get_case(conn, case_id)
        # Another LA's case answers 404, so its existence is not disclosed.
        if case is None or (who.role == "la_staff" and case["responsible_la"] != who.la):
            raise HTTPException(404, "case not found")
        person = await store.get_young_person(conn, case["person_key"])
        events = await store.timeline(conn, case_id)
        await record_read(conn, who, "case", [case_id], PERSONAL_FIELDS)
    return {
        **_case_json(case),
        "young_person": {k: person["details"].get(k) for k in PERSONAL_FIELDS},
        "characteristics": person["facts"]["characteristics"],
        "send": {"ehcp": person["facts"]["ehcp"], "sen_support": person["facts"]["sen_support"]},
        "consent": {"share_with_ncs": person["facts"]["consent_to_ncs"],
                    "objects_to_sharing": person["facts"]["objects_to_sharing"],
                    "source": person["facts"].get("consent_source")},
        "current_activity": {"activity_code": person["activity_code"], "status": person["activity_status"]},
        "timeline": [{"at": e["at"].isoformat(), "kind": e["kind"], "actor": e["actor"], **e["detail"]} for e in events],
    }


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = create_app("la_tracker", settings, title="Onward la_tracker",
                     description="LA follow-up queue. Case statuses: " + ", ".join(domain.CASE_STATUSES))
    app.include_router(router)
    return app
