"""la_tracker HTTP API (docs/contracts.md, fixed). LA staff see only their own LA's cases."""
from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import Response
from prometheus_client import Gauge

from onward.audit import record_read
from onward.auth import Principal, require
from onward.http import create_app
from onward.listing import Query as Where, order_by
from onward.settings import Settings, get_settings
from services.la_tracker import activity_rules, domain, staff, store, worklist
from services.la_tracker.casework_wire import HandoffIn
from services.la_tracker.wire import ActivityIn, ConsentIn, ContactIn

router = APIRouter(prefix="/v1")
OPEN_CASES = Gauge("onward_la_open_cases", "Open cases by LA and status", ["la", "status"])
OLDEST_CASE = Gauge("onward_la_oldest_open_case_seconds", "Age of the LA's oldest open case", ["la"])
la_staff = require("la_staff", "admin")
CASE_SORTS = {"priority": "priority", "opened_at": "opened_at", "updated_at": "updated_at", "status": "status",
              "worklist": worklist.WORKLIST_ORDER, "last_contact_at": "last_contact_at"}
PERSONAL_FIELDS = ("given_name", "family_name", "date_of_birth", "home_postcode", "address_lines", "email", "phone",
                   "upn", "uln")


def _json(r) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, UUID) else v)
            for k, v in dict(r).items()}


def _bad(field: str, message: str) -> HTTPException:
    return HTTPException(422, [{"field": field, "message": message}])


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
    where, order = _case_filters(who, status, priority, reason, person_key, q, min_age_days, assigned, sort,
                                 asked_for_help)
    async with request.app.state.pool.acquire() as conn:
        result = await worklist.fetch_page(conn, store.CASE_COLUMNS, where, order, page_no, page_size)
        counts = await conn.fetch(f"select status, count(*) from cases{_scope_sql(who)} group by status",
                                  *([who.la] if who.role == "la_staff" else []))
        if q:
            await record_read(conn, who, "case", [r["case_id"] for r in result["items"]], ("given_name", "family_name"),
                              action="search")
    result["items"] = [_json(r) for r in result["items"]]
    result["counts"] = {r["status"]: r["count"] for r in counts}
    return result


def _case_filters(who: Principal, status, priority, reason, person_key, q, min_age_days, assigned, sort,
                  asked_for_help: bool | None = None):
    """The list's conditions (scoped to the caller's LA) and order; bad values are a 422 naming the field."""
    if status is not None and status not in (*domain.CASE_STATUSES, "open"):
        raise _bad("status", f"status must be open or one of {', '.join(domain.CASE_STATUSES)}")
    where = Where()
    if who.role == "la_staff":
        where.where("responsible_la = {}", who.la)
    worklist.add_view(where, status, assigned, who.sub)
    for column, value in (("priority", priority), ("reason", reason), ("person_key", person_key)):
        if value is not None:
            where.where(f"{column} = {{}}", value)
    if asked_for_help is not None:  # issue 17: requests from the young person's pages
        where.where(("" if asked_for_help else "not ") + "exists (select from you_answers a where a.kind = 'help'"
                    " and a.case_id = cases.case_id)")
    if min_age_days is not None:
        where.where("opened_at <= now() - make_interval(days => {})", min_age_days)
    if q:
        try:
            worklist.add_search(where, q)
        except ValueError:
            raise _bad("q", "a date of birth must be a real date, as YYYY-MM-DD") from None
    return where, order_by(sort, CASE_SORTS, "priority", "case_id")


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
    where, order = _case_filters(who, status, priority, reason, None, q, min_age_days, assigned, sort,
                                 asked_for_help)
    async with request.app.state.pool.acquire() as conn:
        rows = await worklist.fetch_all(conn, store.CASE_COLUMNS, where, order)
        await record_read(conn, who, "case", [r["case_id"] for r in rows], ("given_name", "family_name"),
                          action="export")
    return Response(worklist.to_csv(rows), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="cases.csv"'})


def _scope_sql(who: Principal) -> str:
    return " where responsible_la = $1" if who.role == "la_staff" else ""


async def _own_case(conn, case_id: UUID, who: Principal, *, for_update: bool = False):
    case = await store.get_case(conn, case_id, for_update=for_update)
    # Another LA's case answers 404, so its existence is not disclosed.
    if case is None or (who.role == "la_staff" and case["responsible_la"] != who.la):
        raise HTTPException(404, "case not found")
    return case


@router.get("/cases/{case_id}")
async def get_case(request: Request, case_id: UUID, who: Principal = Depends(la_staff)) -> dict:
    async with request.app.state.pool.acquire() as conn:
        case = await _own_case(conn, case_id, who)
        person = await store.get_young_person(conn, case["person_key"])
        events = await store.timeline(conn, case_id)
        await record_read(conn, who, "case", [case_id], PERSONAL_FIELDS)
    f = person["facts"]
    return {
        **_json(case),
        "young_person": {k: person["details"].get(k) for k in PERSONAL_FIELDS},
        "characteristics": f["characteristics"], "send": {"ehcp": f["ehcp"], "sen_support": f["sen_support"]},
        "level_of_need": person["level_of_need"],
        "consent": {"share_with_ncs": f["consent_to_ncs"], "objects_to_sharing": f["objects_to_sharing"],
                    "source": f.get("consent_source"), "recorded_at": f.get("consent_recorded_at")},
        "current_activity": {"activity_code": person["activity_code"], "status": person["activity_status"],
                             "start_date": _json({"d": person["activity_start"]})["d"],
                             "review_date": _json({"d": person["activity_review"]})["d"]},
        "timeline": [{"at": e["at"].isoformat(), "kind": e["kind"], "actor": e["actor"], **e["detail"]} for e in events],
    }


async def _act(request: Request, case_id: UUID, who: Principal, action) -> dict:
    try:
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            case = await _own_case(conn, case_id, who, for_update=True)
            result = await action(conn, case)
            case = await store.get_case(conn, case_id)
    except staff.NotAllowed as exc:
        raise HTTPException(409, str(exc)) from None
    except activity_rules.Invalid as exc:
        raise _bad(exc.field, str(exc)) from None
    return {**_json(case), **(result or {})}


@router.post("/cases/{case_id}/contacts", status_code=201)
async def record_contact(request: Request, case_id: UUID, body: ContactIn, who: Principal = Depends(la_staff)) -> dict:
    return await _act(request, case_id, who, lambda conn, case: staff.record_contact(
        conn, case, who, body.method, body.outcome, body.note))


@router.put("/cases/{case_id}/activity")
async def set_activity(request: Request, case_id: UUID, body: ActivityIn, who: Principal = Depends(la_staff)) -> dict:
    if body.start_date and body.review_date and body.review_date < body.start_date:
        raise _bad("review_date", "review date is before the start date")
    return await _act(request, case_id, who, lambda conn, case: staff.set_activity(
        conn, case, who, body.activity_code, body.start_date, body.review_date, request.app.state.clock(),
        body.predicted_end_date, body.characteristic))


@router.post("/cases/{case_id}/consent")
async def record_consent(request: Request, case_id: UUID, body: ConsentIn, who: Principal = Depends(la_staff)) -> dict:
    return await _act(request, case_id, who, lambda conn, case: staff.record_consent(
        conn, case, who, body.share_with_ncs, body.source, request.app.state.clock()))


@router.post("/cases/{case_id}/referral", status_code=201)
async def refer(request: Request, case_id: UUID, who: Principal = Depends(la_staff),
                body: HandoffIn | None = None) -> dict:
    async def action(conn, case):
        return {"referral_id": str(await staff.refer(conn, case, who, body.model_dump() if body else None))}
    return await _act(request, case_id, who, action)


async def refresh_queue_metrics(app: FastAPI) -> None:
    rows = await app.state.pool.fetch(
        "select responsible_la, status, count(*) n, extract(epoch from now() - min(opened_at))::float8 oldest"
        " from cases where status <> all($1::text[]) group by responsible_la, status",
        [domain.CLOSED, domain.TRANSFERRED])
    OPEN_CASES.clear()
    OLDEST_CASE.clear()
    oldest: dict[str, float] = {}
    for r in rows:
        OPEN_CASES.labels(r["responsible_la"], r["status"]).set(r["n"])
        oldest[r["responsible_la"]] = max(oldest.get(r["responsible_la"], 0.0), r["oldest"])
    for la, age in oldest.items():
        OLDEST_CASE.labels(la).set(age)


def build_app(settings: Settings | None = None, clock=None) -> FastAPI:
    from services.la_tracker import (api_admin, api_casework, api_nccis, api_reviews, api_you, web, web_nccis,
                                     you_web)

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
    web.install(app)
    you_web.install(app)  # issue 17: the young person's pages, the development mailbox
    app.include_router(api_you.router)
    return app
