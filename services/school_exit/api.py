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
from services.school_exit import handlers, imports, intake, leaver_csv, store
from services.school_exit.domain import ONWARD_STATUSES
from services.school_exit.wire import DestinationIn, ErasureIn, LeaverAccepted, LeaverIn

MAX_BATCH = 5000
MAX_FILE_BYTES = 20 * 1024 * 1024
router = APIRouter(prefix="/v1")
school = require("school", "admin")


def _correlation(value: str | None) -> UUID:
    try:
        return UUID(value) if value else uuid4()
    except ValueError:
        return uuid4()


def _scope(who: Principal) -> str | None:
    return who.laestab if who.role == "school" else None


async def _register(request: Request, leavers: list[LeaverIn], correlation_id: UUID) -> list[handlers.Registered]:
    settings: Settings = request.app.state.settings
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        return await handlers.register_leavers(conn, leavers, correlation_id=correlation_id,
                                               person_key_secret=settings.person_key_secret.get_secret_value())


@router.post("/leavers", status_code=202, response_model=LeaverAccepted)
async def submit_leaver(request: Request, leaver: LeaverIn, who: Principal = Depends(school),
                        x_correlation_id: str | None = Header(None)) -> LeaverAccepted:
    if who.role == "school" and leaver.school_laestab != who.laestab:
        raise HTTPException(403, "a school may only submit leavers for its own LAESTAB")
    checked = intake.check(leaver, request.app.state.clock())
    if isinstance(checked, list):
        raise HTTPException(422, checked)
    [result] = await _register(request, [checked], _correlation(x_correlation_id))
    return LeaverAccepted(**vars(result))


async def submit_many(request: Request, items: list, who: Principal, correlation_id: UUID) -> dict:
    """Validate each item on its own; good ones are accepted together even when others fail."""
    today = request.app.state.clock()
    results: list[dict] = []
    good: list[tuple[int, LeaverIn]] = []
    for i, raw in enumerate(items):
        checked = raw if isinstance(raw, (list, LeaverIn)) else intake.validate(raw, today, _scope(who))
        if isinstance(checked, list):
            results.append({"index": i, "result": "rejected", "errors": checked})
        else:
            results.append({})
            good.append((i, checked))
    if good:
        registered = await _register(request, [lv for _, lv in good], correlation_id)
        for (i, _), r in zip(good, registered):
            results[i] = {"index": i, "result": r.status, "leaver_id": str(r.leaver_id), "person_key": r.person_key,
                          "onward_status": r.onward_status}
    accepted = len(good)
    return {"accepted": accepted, "rejected": len(items) - accepted, "results": results}


@router.post("/leavers/batch", status_code=207)
async def submit_batch(request: Request, body: object = Body(..., examples=[{"leavers": []}]),
                       who: Principal = Depends(school), x_correlation_id: str | None = Header(None)) -> JSONResponse:
    items = body.get("leavers") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise HTTPException(422, [{"field": "leavers", "message": "leavers must be a list of leaver objects"}])
    if len(items) > MAX_BATCH:
        raise HTTPException(413, f"a batch holds at most {MAX_BATCH} leavers; split it")
    return JSONResponse(await submit_many(request, items, who, _correlation(x_correlation_id)), status_code=207)


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
    summary, _ = await import_rows(request, who, laestab, data, leaving_date, _correlation(x_correlation_id))
    return JSONResponse(summary, status_code=207)


async def import_rows(request: Request, who: Principal, laestab: str, data: bytes, leaving_date: date | None,
                      correlation_id: UUID) -> tuple[dict, list[imports.Row]]:
    """Read a file, validate every row (all of a row's problems, in the file's terms) and register the good
    rows together; the per-row summary and the rows as read."""
    if len(data) > MAX_FILE_BYTES:
        raise HTTPException(413, f"files are limited to {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        rows = imports.read_file(data, laestab, leaving_date)
    except imports.UnreadableFile as exc:
        raise HTTPException(422, [{"field": "file", "message": str(exc)}]) from None
    if len(rows) > MAX_BATCH:
        raise HTTPException(413, f"a file holds at most {MAX_BATCH} leavers; split it")
    today = request.app.state.clock()
    items = []
    for row in rows:
        checked = intake.validate(row.leaver, today, laestab)
        problems = row.in_file_terms(checked if isinstance(checked, list) else [])
        items.append(problems or checked)
    summary = await submit_many(request, items, who, correlation_id)
    for row, result in zip(rows, summary["results"]):
        del result["index"]
        result |= {"row": row.number, **({"line": row.line} if row.line else {}),
                   **({"notes": row.notes} if row.notes else {})}
    if rows and rows[0].line:
        summary["lines"] = "line is the file's line number; line 1 is the header row"
    return summary, rows


@router.get("/leavers/import/template.csv", response_class=Response)
async def import_template() -> Response:
    """The CSV template: every column the import reads, header row only (no sign-in needed)."""
    return Response(leaver_csv.template(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="onward-leavers-template.csv"'})


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
        await conn.execute("insert into audit_log (actor_sub, actor_role, action, object_type, object_id)"
                           " values ($1, $2, 'erase', 'person', $3)", who.sub, who.role, pkey)
    return {"erasure_id": str(erasure_id), "person_key": pkey, "leaver_reports_erased": removed,
            "status": "requested"}


def build_app(settings: Settings | None = None, clock=None) -> FastAPI:
    from services.school_exit import web

    settings = settings or get_settings()
    app = create_app("school_exit", settings, title="Onward school_exit",
                     description="Schools report Year 13 (and other) leavers; statuses: " + ", ".join(ONWARD_STATUSES))
    app.state.clock = clock or date.today
    app.include_router(router)
    web.install(app)
    return app
