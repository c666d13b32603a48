"""ncs_referral HTTP API (docs/contracts.md, fixed). Advisers see only their NCS area's referrals.

Thin: each route checks its input and calls services/ncs_referral/queries.py, as the pages do.
"""
from __future__ import annotations

import inspect
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import Gauge
from starlette.exceptions import HTTPException as StarletteHTTPException

from onward.auth import Principal, require
from onward.http import create_app
from onward.settings import Settings, get_settings
from services.ncs_referral import domain, queries, search, web
from services.ncs_referral.wire import AssignIn, BulkAssignIn, ContactIn, OutcomeIn

router = APIRouter(prefix="/v1")
QUEUE_SIZE = Gauge("onward_ncs_unclaimed_referrals", "Unclaimed referrals by NCS area and waiting band",
                   ["ncs_area", "band"])
QUEUE_OLDEST = Gauge("onward_ncs_oldest_unclaimed_seconds", "Oldest unclaimed referral's wait", ["ncs_area"])
adviser = require("ncs_adviser", "admin")
ASSIGNED = "`me`: the caller's referrals (My referrals); `none`: the unassigned; else an adviser's staff id"


@router.get("/referrals")
async def list_referrals(request: Request, who: Principal = Depends(adviser),
                         status: Annotated[str | None, Query()] = None,
                         priority: Annotated[int | None, Query(ge=1, le=3)] = None,
                         min_waiting_hours: Annotated[float | None, Query(ge=0, le=24 * 3650)] = None,
                         person_key: Annotated[str | None, Query(max_length=64)] = None,
                         q: Annotated[str | None, Query(min_length=2, max_length=100, pattern=r"^[^\x00]*$", description=(
                             "any part of the given or family name, or a DOB as YYYY-MM-DD"))] = None,
                         sort: str | None = None, page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
                         page_size: Annotated[int, Query(ge=1, le=200)] = 50,
                         assigned: Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00]*$",
                                                               description=ASSIGNED)] = None) -> dict:
    if status is not None and status not in domain.REFERRAL_STATUSES:
        raise HTTPException(422, [{"field": "status", "message": f"status must be one of {', '.join(domain.REFERRAL_STATUSES)}"}])
    if q is not None and not search.is_valid(q):
        raise HTTPException(422, [{"field": "q", "message": "a date of birth must be a real date, as YYYY-MM-DD"}])
    return await queries.list_referrals(request.app.state.pool, who, status=status or None, priority=priority,
                                        min_waiting_hours=min_waiting_hours, person_key=person_key or None,
                                        q=q or None, sort=sort, page_no=page_no, page_size=page_size,
                                        assigned=assigned)


@router.get("/queue-age")
async def queue_age(request: Request, who: Principal = Depends(adviser)) -> dict:
    """Service levels: unclaimed referrals per NCS area by waiting time, and the oldest wait."""
    return await queries.queue_age(request.app.state.pool, who)


async def refresh_queue_metrics(app: FastAPI) -> None:
    summary = await queries.queue_age(app.state.pool, None)
    QUEUE_SIZE.clear()
    QUEUE_OLDEST.clear()
    for area, a in summary["areas"].items():
        QUEUE_OLDEST.labels(area).set(a["oldest_waiting_seconds"])
        for band, _ in domain.AGE_BANDS:
            QUEUE_SIZE.labels(area, band).set(a[band])


@router.get("/referrals/{referral_id}")
async def get_referral(request: Request, referral_id: UUID, who: Principal = Depends(adviser)) -> dict:
    return await queries.get_referral(request.app.state.pool, who, referral_id)


@router.post("/referrals/{referral_id}/claim")
async def claim(request: Request, referral_id: UUID, who: Principal = Depends(adviser)) -> dict:
    return await queries.claim(request.app.state.pool, who, referral_id)


@router.get("/advisers")
async def advisers(request: Request, who: Principal = Depends(adviser)) -> dict:
    """The area's advisers who have signed in, by name: whom a referral can be assigned to."""
    return {"items": await queries.advisers(request.app.state.pool, who)}


@router.put("/referrals/{referral_id}/assignee")
async def assign(request: Request, referral_id: UUID, body: AssignIn, who: Principal = Depends(adviser)) -> dict:
    """Assign the referral to a named adviser of its area (`assignee`: their staff id; null unassigns a new
    referral). A referral being worked passes to the assignee with its claim."""
    return await queries.assign(request.app.state.pool, who, referral_id, body)


@router.post("/referrals/assign")
async def assign_many(request: Request, body: BulkAssignIn, who: Principal = Depends(adviser)) -> dict:
    """Assign several referrals at once: all or none (another area's referral is a 404 for the whole request)."""
    return await queries.assign_many(request.app.state.pool, who, body)


@router.post("/referrals/{referral_id}/undo-return")
async def undo_return(request: Request, referral_id: UUID, who: Principal = Depends(adviser)) -> dict:
    """Take back a "could not contact" return within a day, before the LA is told."""
    return await queries.undo_return(request.app.state.pool, who, referral_id)


@router.post("/referrals/{referral_id}/contacts", status_code=201)
async def contact(request: Request, referral_id: UUID, body: ContactIn, who: Principal = Depends(adviser)) -> dict:
    return await queries.record_contact(request.app.state.pool, who, referral_id, body)


@router.post("/referrals/{referral_id}/outcome")
async def outcome(request: Request, referral_id: UUID, body: OutcomeIn, who: Principal = Depends(adviser)) -> dict:
    return await queries.record_outcome(request.app.state.pool, who, referral_id, body)


async def _as_http_error(request: Request, exc: Exception) -> Response:
    """Another area's referral is 404 and a step the referral's state refuses is 409, for the API and the
    pages alike (each answers in its own format through the app's HTTP error handler)."""
    status = 404 if isinstance(exc, domain.NotFound) else 409
    answer = request.app.exception_handlers[StarletteHTTPException](request, StarletteHTTPException(status, str(exc)))
    return await answer if inspect.isawaitable(answer) else answer


async def _confirm_first(request: Request, exc: domain.ConfirmReturn) -> Response:
    """The attempt that would return the young person to the LA: 409 naming `confirm_return`."""
    return JSONResponse({"detail": [{"field": "confirm_return", "message": str(exc)}]}, status_code=409)


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = create_app("ncs_referral", settings, title="Onward ncs_referral",
                     description="NCS handoff queue. Referral statuses: " + ", ".join(domain.REFERRAL_STATUSES),
                     on_metrics=refresh_queue_metrics)
    app.include_router(router)
    web.install(app)
    app.add_exception_handler(domain.NotFound, _as_http_error)
    app.add_exception_handler(domain.NotAllowed, _as_http_error)
    app.add_exception_handler(domain.ConfirmReturn, _confirm_first)
    return app
