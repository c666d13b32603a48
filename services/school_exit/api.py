"""school_exit HTTP API (design.md, fixed contract)."""
from __future__ import annotations

from uuid import UUID, uuid4

from fastapi import APIRouter, Body, Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from onward.audit import record_read
from onward.auth import Principal, require
from onward.http import create_app
from onward.settings import Settings, get_settings
from services.school_exit import handlers, store
from services.school_exit.domain import ONWARD_STATUSES
from services.school_exit.wire import DestinationIn, LeaverAccepted, LeaverIn

MAX_BATCH = 5000
router = APIRouter(prefix="/v1")
school = require("school", "admin")


def _correlation(value: str | None) -> UUID:
    try:
        return UUID(value) if value else uuid4()
    except ValueError:
        return uuid4()


def _problems(exc: ValidationError) -> list[dict]:
    return [{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"].removeprefix("Value error, ")}
            for e in exc.errors()]


def _check(leaver: LeaverIn, who: Principal, today) -> list[dict]:
    """Rules beyond field shapes: dates against today and the caller's own school."""
    return [{"field": f, "message": m} for f, m in leaver.date_problems(today).items()]


def _own_school(leaver: LeaverIn, who: Principal) -> None:
    if who.role == "school" and leaver.school_laestab != who.laestab:
        raise HTTPException(403, "a school may only submit leavers for its own LAESTAB")


def _today(request: Request):
    return request.app.state.clock()


@router.post("/leavers", status_code=202, response_model=LeaverAccepted)
async def submit_leaver(request: Request, leaver: LeaverIn, who: Principal = Depends(school),
                        x_correlation_id: str | None = Header(None)) -> LeaverAccepted:
    _own_school(leaver, who)
    if problems := _check(leaver, who, _today(request)):
        raise HTTPException(422, problems)
    settings: Settings = request.app.state.settings
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        result = await handlers.register_leaver(conn, leaver, person_key_secret=settings.person_key_secret.get_secret_value(),
                                                correlation_id=_correlation(x_correlation_id))
    return LeaverAccepted(**vars(result))


@router.post("/leavers/batch", status_code=207)
async def submit_batch(request: Request, body: dict = Body(..., examples=[{"leavers": []}]),
                       who: Principal = Depends(school), x_correlation_id: str | None = Header(None)) -> JSONResponse:
    items = body.get("leavers") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise HTTPException(422, [{"field": "leavers", "message": "leavers must be a list of leaver objects"}])
    if len(items) > MAX_BATCH:
        raise HTTPException(413, f"a batch holds at most {MAX_BATCH} leavers; split it")
    results = await submit_many(request, items, who, _correlation(x_correlation_id))
    accepted = sum(1 for r in results if r["result"] != "rejected")
    return JSONResponse({"accepted": accepted, "rejected": len(results) - accepted, "results": results}, status_code=207)


async def submit_many(request: Request, items: list, who: Principal, correlation_id: UUID) -> list[dict]:
    """Validate each item on its own; good ones are accepted in one transaction even when others fail."""
    today = _today(request)
    results: list[dict] = [{}] * len(items)
    good: list[tuple[int, LeaverIn]] = []
    for i, raw in enumerate(items):
        try:
            leaver = LeaverIn.model_validate(raw)
        except ValidationError as exc:
            results[i] = {"index": i, "result": "rejected", "errors": _problems(exc)}
            continue
        problems = _check(leaver, who, today)
        if who.role == "school" and leaver.school_laestab != who.laestab:
            problems.append({"field": "school_laestab", "message": "a school may only submit leavers for its own LAESTAB"})
        if problems:
            results[i] = {"index": i, "result": "rejected", "errors": problems}
        else:
            good.append((i, leaver))
    settings: Settings = request.app.state.settings
    secret = settings.person_key_secret.get_secret_value()
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        for i, leaver in good:
            r = await handlers.register_leaver(conn, leaver, person_key_secret=secret, correlation_id=correlation_id)
            results[i] = {"index": i, "result": r.status, "leaver_id": str(r.leaver_id), "person_key": r.person_key,
                          "onward_status": r.onward_status}
    return results


async def _own_leaver(conn, leaver_id: UUID, who: Principal, *, for_update: bool = False):
    row = await store.get_leaver(conn, leaver_id, for_update=for_update)
    # Another school's leaver answers 404, so its existence is not disclosed.
    if row is None or (who.role == "school" and row["school_laestab"] != who.laestab):
        raise HTTPException(404, "leaver not found")
    return row


@router.put("/leavers/{leaver_id}/destination", status_code=202)
async def put_destination(request: Request, leaver_id: UUID, destination: DestinationIn,
                          who: Principal = Depends(school), x_correlation_id: str | None = Header(None)) -> dict:
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        row = await _own_leaver(conn, leaver_id, who, for_update=True)
        await handlers.report_destination(conn, row, destination, _correlation(x_correlation_id))
    return {"leaver_id": str(leaver_id), "destination": destination.model_dump()}


@router.get("/leavers/{leaver_id}")
async def get_leaver(request: Request, leaver_id: UUID, who: Principal = Depends(school)) -> dict:
    async with request.app.state.pool.acquire() as conn:
        row = await _own_leaver(conn, leaver_id, who)
        events = await store.timeline(conn, leaver_id)
        await record_read(conn, who, "leaver", [leaver_id], row["body"].keys())
    return {
        "leaver_id": str(row["leaver_id"]), "person_key": row["person_key"], "revision": row["revision"],
        **row["body"],
        "onward_status": row["onward_status"], "onward_status_at": row["onward_status_at"].isoformat(),
        "timeline": [{"at": e["at"].isoformat(), "kind": e["kind"], **e["detail"]} for e in events],
    }


def build_app(settings: Settings | None = None, clock=None) -> FastAPI:
    from datetime import date

    settings = settings or get_settings()
    app = create_app("school_exit", settings, title="Onward school_exit",
                     description="Schools report Year 13 (and other) leavers; statuses: " + ", ".join(ONWARD_STATUSES))
    app.state.clock = clock or date.today
    app.include_router(router)
    return app
