"""ncs_referral HTTP API (design.md, fixed contract). Advisers see only their NCS area's referrals."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from prometheus_client import Gauge
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from onward.audit import record_read
from onward.auth import Principal, require
from onward.http import create_app
from onward.listing import Query as Where, order_by, page
from onward.settings import Settings, get_settings
from schemas import nccis
from services.ncs_referral import domain, handlers, search, store

router = APIRouter(prefix="/v1")
QUEUE_SIZE = Gauge("onward_ncs_unclaimed_referrals", "Unclaimed referrals by NCS area and waiting band",
                   ["ncs_area", "band"])
QUEUE_OLDEST = Gauge("onward_ncs_oldest_unclaimed_seconds", "Oldest unclaimed referral's wait", ["ncs_area"])
adviser = require("ncs_adviser", "admin")
SORTS = {"priority": "priority", "received_at": "received_at", "updated_at": "updated_at", "status": "status"}
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Literal["phone", "email", "text", "letter", "visit", "other"]
    outcome: Literal["reached", "no_answer", "left_message", "wrong_details", "refused"]
    note: Note | None = None
    confirm_return: bool = False  # the attempt that returns the young person to the LA must be confirmed


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    activity_code: Annotated[str, AfterValidator(nccis.validate_activity_code)]
    note: Note | None = None
    provider: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200, pattern=r"^[^\x00]*$")] | None = None
    start_date: date | None = None


def _json(r) -> dict:
    out = {k: (str(v) if isinstance(v, UUID) else v) for k, v in dict(r).items()}
    for k in ("received_at", "updated_at"):
        if out.get(k) is not None:
            out[k] = out[k].isoformat()
    out["waiting_seconds"] = int((datetime.now(timezone.utc) - r["received_at"]).total_seconds())
    return out


async def _own(conn, referral_id: UUID, who: Principal, *, for_update: bool = False, with_handoff: bool = False):
    row = await store.get_referral(conn, referral_id, for_update=for_update, with_handoff=with_handoff)
    # Another area's referral answers 404, so its existence is not disclosed.
    if row is None or (who.role == "ncs_adviser" and row["ncs_area"] != who.ncs_area):
        raise HTTPException(404, "referral not found")
    return row


@router.get("/referrals")
async def list_referrals(request: Request, who: Principal = Depends(adviser),
                         status: Annotated[str | None, Query()] = None,
                         priority: Annotated[int | None, Query(ge=1, le=3)] = None,
                         min_waiting_hours: Annotated[float | None, Query(ge=0, le=24 * 3650)] = None,
                         person_key: Annotated[str | None, Query(max_length=64)] = None,
                         q: Annotated[str | None, Query(min_length=2, max_length=100, pattern=r"^[^\x00]*$", description=(
                             "any part of the given or family name, or a DOB as YYYY-MM-DD"))] = None,
                         sort: str | None = None, page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
                         page_size: Annotated[int, Query(ge=1, le=200)] = 50) -> dict:
    if status is not None and status not in domain.REFERRAL_STATUSES:
        raise HTTPException(422, [{"field": "status", "message": f"status must be one of {', '.join(domain.REFERRAL_STATUSES)}"}])
    where = Where()
    if who.role == "ncs_adviser":
        where.where("ncs_area = {}", who.ncs_area)
    if status:
        where.where("status = {}", status)
    if priority:
        where.where("priority = {}", priority)
    if min_waiting_hours is not None:
        where.where("received_at <= now() - make_interval(secs => {})", min_waiting_hours * 3600)
    if person_key:
        where.where("person_key = {}", person_key)
    if q:
        try:
            search.add_search(where, q)
        except ValueError:
            raise HTTPException(422, [{"field": "q", "message": "a date of birth must be a real date, as YYYY-MM-DD"}]) from None
    async with request.app.state.pool.acquire() as conn:
        result = await page(conn, f"select {store.COLUMNS}", "from referrals", where,
                            order_by(sort, SORTS, "priority", "referral_id"), page_no, page_size)
    result["items"] = [_json(r) for r in result["items"]]
    return result


@router.get("/queue-age")
async def queue_age(request: Request, who: Principal = Depends(adviser)) -> dict:
    """Service levels: unclaimed referrals per NCS area by waiting time, and the oldest wait."""
    area = who.ncs_area if who.role == "ncs_adviser" else None
    async with request.app.state.pool.acquire() as conn:
        return queue_summary(await store.queue_ages(conn, area))


def queue_summary(rows) -> dict:
    areas: dict[str, dict] = {}
    for r in rows:
        a = areas.setdefault(r["ncs_area"], {"unclaimed": 0, "oldest_waiting_seconds": 0,
                                             **{name: 0 for name, _ in domain.AGE_BANDS}})
        a["unclaimed"] += 1
        a[domain.age_band(r["waiting"])] += 1
        a["oldest_waiting_seconds"] = max(a["oldest_waiting_seconds"], int(r["waiting"]))
    return {"areas": areas, "bands": [name for name, _ in domain.AGE_BANDS]}


async def refresh_queue_metrics(app: FastAPI) -> None:
    summary = queue_summary(await store.queue_ages(app.state.pool, None))
    QUEUE_SIZE.clear()
    QUEUE_OLDEST.clear()
    for area, a in summary["areas"].items():
        QUEUE_OLDEST.labels(area).set(a["oldest_waiting_seconds"])
        for band, _ in domain.AGE_BANDS:
            QUEUE_SIZE.labels(area, band).set(a[band])


@router.get("/referrals/{referral_id}")
async def get_referral(request: Request, referral_id: UUID, who: Principal = Depends(adviser)) -> dict:
    async with request.app.state.pool.acquire() as conn:
        row = await _own(conn, referral_id, who, with_handoff=True)
        events = await store.timeline(conn, referral_id)
        await record_read(conn, who, "referral", [referral_id], row["handoff"].keys())
    out = _json(row)
    out.pop("handoff"), out.pop("consent")
    return {**out, "handoff": row["handoff"], "consent": row["consent"],
            "timeline": [{"at": e["at"].isoformat(), "kind": e["kind"], "actor": e["actor"], **e["detail"]} for e in events]}


async def _step(request: Request, referral_id: UUID, who: Principal, action) -> dict:
    try:
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            row = await _own(conn, referral_id, who, for_update=True)
            await action(conn, row)
            row = await store.get_referral(conn, referral_id)
    except domain.ConfirmReturn as exc:
        raise HTTPException(409, [{"field": "confirm_return", "message": str(exc)}]) from None
    except domain.NotAllowed as exc:
        raise HTTPException(409, str(exc)) from None
    return _json(row)


@router.post("/referrals/{referral_id}/claim")
async def claim(request: Request, referral_id: UUID, who: Principal = Depends(adviser)) -> dict:
    return await _step(request, referral_id, who, lambda conn, row: handlers.claim(conn, row, who.sub, who.name))


@router.post("/referrals/{referral_id}/undo-return")
async def undo_return(request: Request, referral_id: UUID, who: Principal = Depends(adviser)) -> dict:
    """Take back a "could not contact" return within a day, before the LA is told."""
    return await _step(request, referral_id, who, lambda conn, row: handlers.undo_return(conn, row, who.sub, who.name))


@router.post("/referrals/{referral_id}/contacts", status_code=201)
async def contact(request: Request, referral_id: UUID, body: ContactIn, who: Principal = Depends(adviser)) -> dict:
    settings: Settings = request.app.state.settings
    return await _step(request, referral_id, who, lambda conn, row: handlers.record_contact(
        conn, row, who.sub, body.method, body.outcome, body.note,
        max_attempts=settings.ncs_max_contact_attempts, correlation_id=uuid4(), confirm_return=body.confirm_return,
        adviser_name=who.name))


@router.post("/referrals/{referral_id}/outcome")
async def outcome(request: Request, referral_id: UUID, body: OutcomeIn, who: Principal = Depends(adviser)) -> dict:
    return await _step(request, referral_id, who, lambda conn, row: handlers.record_outcome(
        conn, row, who.sub, body.activity_code, body.note, uuid4(), provider=body.provider,
        start_date=body.start_date, adviser_name=who.label))


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = create_app("ncs_referral", settings, title="Onward ncs_referral",
                     description="NCS handoff queue. Referral statuses: " + ", ".join(domain.REFERRAL_STATUSES),
                     on_metrics=refresh_queue_metrics)
    app.include_router(router)
    from services.ncs_referral import web
    web.install(app)
    return app
