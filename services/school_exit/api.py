"""school_exit HTTP API (docs/contracts.md, fixed)."""
from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from fastapi import APIRouter, Body, Depends, FastAPI, File, Form, Header, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from onward.audit import record_read
from onward.auth import Principal, require
from onward.http import create_app
from onward.person_key import person_key
from onward.settings import Settings, get_settings
from schemas.identifiers import validate_laestab
from services.school_exit import handlers, intake, leaver_csv, queries, web
from services.school_exit.domain import ONWARD_STATUSES
from services.school_exit.wire import DestinationIn, ErasureIn, LeaverAccepted, LeaverIn

MAX_BATCH, MAX_FILE_BYTES = queries.MAX_BATCH, queries.MAX_FILE_BYTES
router = APIRouter(prefix="/v1")
school = require("school", "admin")


def _secret(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.person_key_secret.get_secret_value()


def _correlation(value: str | None) -> UUID:
    try:
        return UUID(value) if value else uuid4()
    except ValueError:
        return uuid4()


@router.post("/leavers", status_code=202, response_model=LeaverAccepted)
async def submit_leaver(request: Request, leaver: LeaverIn, who: Principal = Depends(school),
                        x_correlation_id: str | None = Header(None)) -> LeaverAccepted:
    if who.role == "school" and leaver.school_laestab != who.laestab:
        raise HTTPException(403, "a school may only submit leavers for its own LAESTAB")
    checked = intake.check(leaver, request.app.state.clock())
    if isinstance(checked, list):
        raise HTTPException(422, checked)
    [result] = await queries.register(request.app.state.pool, _secret(request), [checked],
                                      _correlation(x_correlation_id))
    return LeaverAccepted(**vars(result))


@router.post("/leavers/batch", status_code=207)
async def submit_batch(request: Request, body: object = Body(..., examples=[{"leavers": []}]),
                       who: Principal = Depends(school), x_correlation_id: str | None = Header(None)) -> JSONResponse:
    items = body.get("leavers") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise HTTPException(422, [{"field": "leavers", "message": "leavers must be a list of leaver objects"}])
    if len(items) > MAX_BATCH:
        raise HTTPException(413, f"a batch holds at most {MAX_BATCH} leavers; split it")
    summary = await queries.submit_many(request.app.state.pool, _secret(request), items, who,
                                        _correlation(x_correlation_id), request.app.state.clock())
    return JSONResponse(summary, status_code=207)


@router.post("/leavers/import", status_code=207)
async def import_file(request: Request, file: UploadFile = File(...),
                      school_laestab: str | None = Form(None, description="admin only: the school the file is for"),
                      leaving_date: date | None = Form(None, description="CTF pupils without a LeavingDate"),
                      who: Principal = Depends(school), x_correlation_id: str | None = Header(None)) -> JSONResponse:
    """CSV (LA leaver-template columns, any case; GET /v1/leavers/import/template.csv) or DfE CTF XML.
    Per-row results: `row` counts data rows (CSV) or pupils (CTF) from 1; `line` is the CSV file's line
    (line 1 is the header); each error names the file's column (CSV) or element (CTF). Uploading a file
    twice changes nothing."""
    laestab = who.laestab if who.role == "school" else school_laestab
    try:
        laestab = validate_laestab(laestab or "")
    except ValueError as exc:
        raise HTTPException(422, [{"field": "school_laestab", "message": str(exc)}]) from None
    data = await file.read(MAX_FILE_BYTES + 1)
    summary, _ = await queries.import_rows(request.app.state.pool, _secret(request), who, laestab, data, leaving_date,
                                           _correlation(x_correlation_id), request.app.state.clock())
    return JSONResponse(summary, status_code=207)


@router.get("/leavers/import/template.csv", response_class=Response)
async def import_template() -> Response:
    """The CSV template: every column the import reads, header row only (no sign-in needed)."""
    return Response(leaver_csv.template(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="onward-leavers-template.csv"'})


@router.put("/leavers/{leaver_id}/destination", status_code=202)
async def put_destination(request: Request, leaver_id: UUID, destination: DestinationIn,
                          who: Principal = Depends(school), x_correlation_id: str | None = Header(None)) -> dict:
    return await queries.put_destination(request.app.state.pool, leaver_id, destination, who,
                                         _correlation(x_correlation_id))


@router.get("/leavers/{leaver_id}")
async def get_leaver(request: Request, leaver_id: UUID, who: Principal = Depends(school)) -> dict:
    return await queries.get_leaver(request.app.state.pool, leaver_id, who)


admin = require("admin")


@router.post("/erasures", status_code=202)
async def request_erasure(request: Request, body: ErasureIn, who: Principal = Depends(admin),
                          x_correlation_id: str | None = Header(None)) -> dict:
    """Erase a young person's personal data from all three services (UK GDPR Article 17).

    school_exit erases its copy now; la_tracker and ncs_referral follow through events within
    seconds. The erasure is recorded by pseudonymous key only; an older event replayed later does not
    restore the data. Admin only."""
    settings: Settings = request.app.state.settings
    pkey = body.person_key or person_key(settings.person_key_secret.get_secret_value(), body.upn)
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        erasure_id, removed = await handlers.erase_person(conn, pkey, body.reason, _correlation(x_correlation_id))
        await record_read(conn, who, "person", [pkey], (), action="erase")
    return {"erasure_id": str(erasure_id), "person_key": pkey, "leaver_reports_erased": removed,
            "status": "requested"}


def build_app(settings: Settings | None = None, clock=None) -> FastAPI:
    settings = settings or get_settings()
    app = create_app("school_exit", settings, title="Onward school_exit",
                     description="Schools report Year 13 (and other) leavers; statuses: " + ", ".join(ONWARD_STATUSES))
    app.state.clock = clock or date.today
    app.include_router(router)
    web.install(app)
    return app
