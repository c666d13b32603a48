"""la_tracker HTTP API (docs/contracts.md, fixed). LA staff see only their own LA's cases."""
from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response
from prometheus_client import Gauge

from onward.auth import Principal
from onward.http import create_app, download
from onward.settings import Settings, get_settings
from services.la_tracker import (api_admin, api_casework, api_nccis, api_reviews, api_you, dev_mailbox, domain, queries,
                                 store, web, web_nccis, web_worklist, you_help_web, you_web)
from services.la_tracker.queries import la_staff
from services.la_tracker.casework_wire import HandoffIn
from services.la_tracker.wire import ActivityIn, ConsentIn, ContactIn

router = APIRouter(prefix="/v1")
OPEN_CASES = Gauge("onward_la_open_cases", "Open cases by LA and status", ["la", "status"])
OLDEST_CASE = Gauge("onward_la_oldest_open_case_seconds", "Age of the LA's oldest open case", ["la"])


@router.get("/cases")
async def list_cases(request: Request, who: Principal = Depends(la_staff),
                     status: Annotated[str | None, Query(description="a case status, or `open` for every open one")] = None,
                     priority: Annotated[int | None, Query(ge=1, le=3)] = None,
                     reason: Annotated[str | None, Query(max_length=64)] = None,
                     person_key: Annotated[str | None, Query(max_length=64)] = None,
                     q: Annotated[str | None, Query(min_length=2, max_length=100, pattern=r"^[^\x00]*$", description=(
                         "any part of the given or family name, a whole UPN or ULN, or a DOB as YYYY-MM-DD"))] = None,
                     min_age_days: Annotated[int | None, Query(ge=0, le=36500)] = None,
                     assigned: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$",
                                                           description="`me`, `none` or a staff id")] = None,
                     asked_for_help: Annotated[bool | None, Query(description="the young person asked for help")] = None,
                     sort: str | None = None, page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
                     page_size: Annotated[int, Query(ge=1, le=200)] = 50) -> dict:
    return await queries.list_cases(
        request.app.state.pool, who, page_no=page_no, page_size=page_size, status=status, priority=priority,
        reason=reason, person_key=person_key, q=q, min_age_days=min_age_days, assigned=assigned, sort=sort,
        asked_for_help=asked_for_help)


@router.get("/cases.csv")
async def export_cases(request: Request, who: Principal = Depends(la_staff),
                       status: str | None = None, priority: Annotated[int | None, Query(ge=1, le=3)] = None,
                       reason: Annotated[str | None, Query(max_length=64)] = None,
                       q: Annotated[str | None, Query(min_length=2, max_length=100, pattern=r"^[^\x00]*$")] = None,
                       min_age_days: Annotated[int | None, Query(ge=0, le=36500)] = None,
                       assigned: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$")] = None,
                       sort: str | None = None,
                       asked_for_help: Annotated[bool | None, Query(description="the young person asked for help")] = None,
                       ) -> Response:
    """The current list (same filters, every page) as CSV; cells that a spreadsheet would run as a
    formula start with '."""
    return download(await queries.export_cases(
        request.app.state.pool, who, status=status, priority=priority, reason=reason, q=q, min_age_days=min_age_days,
        assigned=assigned, sort=sort, asked_for_help=asked_for_help), "text/csv", "cases.csv")


@router.get("/cases/{case_id}")
async def get_case(request: Request, case_id: UUID, who: Principal = Depends(la_staff)) -> dict:
    return await queries.get_case(request.app.state.pool, case_id, who)


@router.post("/cases/{case_id}/contacts", status_code=201)
async def record_contact(request: Request, case_id: UUID, body: ContactIn, who: Principal = Depends(la_staff)) -> dict:
    return await queries.record_contact(request.app.state.pool, case_id, who, body)


@router.put("/cases/{case_id}/activity")
async def set_activity(request: Request, case_id: UUID, body: ActivityIn, who: Principal = Depends(la_staff)) -> dict:
    return await queries.set_activity(request.app.state.pool, case_id, who, body, request.app.state.clock())


@router.post("/cases/{case_id}/consent")
async def record_consent(request: Request, case_id: UUID, body: ConsentIn, who: Principal = Depends(la_staff)) -> dict:
    return await queries.record_consent(request.app.state.pool, case_id, who, body, request.app.state.clock())


@router.post("/cases/{case_id}/referral", status_code=201)
async def refer(request: Request, case_id: UUID, who: Principal = Depends(la_staff),
                body: HandoffIn | None = None) -> dict:
    return await queries.refer(request.app.state.pool, case_id, who, body.model_dump() if body else None)


async def refresh_queue_metrics(app: FastAPI) -> None:
    async with app.state.pool.acquire() as conn:
        rows = await store.open_case_ages(conn)
    OPEN_CASES.clear()
    OLDEST_CASE.clear()
    oldest: dict[str, float] = {}
    for r in rows:
        OPEN_CASES.labels(r["responsible_la"], r["status"]).set(r["n"])
        oldest[r["responsible_la"]] = max(oldest.get(r["responsible_la"], 0.0), r["oldest"])
    for la, age in oldest.items():
        OLDEST_CASE.labels(la).set(age)


def build_app(settings: Settings | None = None, clock=None) -> FastAPI:
    settings = settings or get_settings()
    app = create_app("la_tracker", settings, title="Onward la_tracker",
                     description="LA follow-up queue. Case statuses: " + ", ".join(domain.CASE_STATUSES),
                     on_metrics=refresh_queue_metrics)
    app.state.clock = clock or date.today
    app.include_router(router)
    app.include_router(api_admin.router)
    api_nccis.install(app, settings)
    app.include_router(api_reviews.router)
    web_nccis.install(app)  # before web's /cases/{case_id}/{action}, which would answer its pages 404
    app.include_router(api_casework.router)
    app.include_router(web_worklist.pages)  # the queue and "Due today"
    web.install(app)
    you_web.install(app)  # issue 17: the young person's pages, the development mailbox
    app.include_router(you_help_web.router)
    app.include_router(dev_mailbox.router)
    app.include_router(api_you.router)
    return app
