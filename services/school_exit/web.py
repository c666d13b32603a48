"""school_exit's pages for a school's data manager: upload a file, the school's leavers and what happened
next, record or correct a destination, and the destinations summary (Gatsby Benchmark 3).

Each page calls the same functions as the JSON API (services/school_exit/queries.py), so the rules, the
scoping (another school's leaver is a 404) and the audit are the API's; this module only presents them.
"""
from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from urllib.parse import urlencode
from uuid import UUID, uuid4

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from onward import web
from onward.audit import record_read
from services.school_exit import domain, leaver_csv, queries, store
from services.school_exit.wire import DestinationIn

SITE = web.Site(service="school_exit", service_name="Report school leavers", roles=("school",),
                nav=[("/leavers", "Leavers"), ("/upload", "Upload a file"), ("/destinations", "Destinations summary")],
                templates=Path(__file__).parent / "templates")
pages = APIRouter(include_in_schema=False)
PAGE_SIZE = 25
DESTINATION_STATUSES = [("confirmed", "Confirmed: they have started"), ("intended", "Intended: not yet confirmed")]


def who(request: Request):
    return web.signed_in(request, SITE)


class LeaverFilters(BaseModel):
    year: int | None = Field(None, ge=2000, le=2100)
    status: str | None = None
    q: str | None = Field(None, max_length=100)
    page: int = Field(1, ge=1, le=100_000)


def _filters(request: Request) -> tuple[LeaverFilters, dict[str, str]]:
    filters, errors = web.query_filters(request.query_params, LeaverFilters, domain.ONWARD_STATUSES)
    if filters.q is not None and len(filters.q) < 2:
        errors["q"], filters.q = "Enter at least 2 letters of a name, or a whole UPN", None
    return filters, errors


@pages.get("/leavers")
async def leavers(request: Request) -> Response:
    user = who(request)
    filters, errors = _filters(request)
    since, until = domain.leaving_year_bounds(filters.year) if filters.year else (None, None)
    async with request.app.state.pool.acquire() as conn:
        result = await store.list_leavers(conn, store.leaver_filters(user.laestab, since, until, filters.status,
                                                                      filters.q), filters.page, PAGE_SIZE)
        counts = await store.status_counts(conn, store.leaver_filters(user.laestab, since, until, None, filters.q))
        years = sorted({domain.leaving_year(d) for d in await store.leaving_dates(conn, user.laestab)}, reverse=True)
        years = [(y, f"{y - 1} to {y}") for y in years]
        await record_read(conn, user, "leaver", [r["leaver_id"] for r in result["items"]],
                          ("given_name", "family_name", "upn", "leaving_date", "destination"), action="list")
    kept = {k: v for k, v in filters.model_dump().items() if v is not None and k != "page"}
    return web.render(request, "leavers.html", title="Leavers", result=result, filters=filters, errors=errors,
                      counts=counts, years=years, statuses=domain.ONWARD_STATUSES, kept=kept, page_size=PAGE_SIZE,
                      status_words=domain.ONWARD_STATUS_WORDS, base="/leavers?" + (urlencode(kept) + "&" if kept else ""),
                      status_base="/leavers?" + urlencode({k: v for k, v in kept.items() if k != "status"}))


@pages.get("/leavers/{leaver_id}")
async def leaver_page(request: Request, leaver_id: UUID, done: str | None = None) -> Response:
    leaver = await queries.get_leaver(request.app.state.pool, leaver_id, who(request))  # 404 for another school's
    return web.render(request, "leaver.html", title=f"{leaver['given_name']} {leaver['family_name']}", leaver=leaver,
                      status_words=domain.ONWARD_STATUS_WORDS, done=done == "destination")


async def _destination_form(request: Request, leaver_id: UUID, data: dict | None, errors: dict,
                            status_code: int = 200):
    """The form, filled with `data` (or the destination already reported when `data` is None)."""
    leaver = await queries.get_leaver(request.app.state.pool, leaver_id, who(request))  # 404 for another school's
    return web.render(request, "destination.html", status_code=status_code, title="Record their destination",
                      leaver=leaver, data=data if data is not None else leaver.get("destination") or {},
                      errors=errors, statuses=DESTINATION_STATUSES)


@pages.get("/leavers/{leaver_id}/destination")
async def destination_form(request: Request, leaver_id: UUID) -> Response:
    return await _destination_form(request, leaver_id, None, {})


@pages.post("/leavers/{leaver_id}/destination")
async def destination_submit(request: Request, leaver_id: UUID) -> Response:
    user = who(request)
    form = await request.form()
    web.check_csrf(request, form)
    data = web.form_data(form, "activity_code", "status", "provider_ukprn")
    try:
        body = DestinationIn.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        errors = web.form_errors(exc)
        if "status" in errors and data["status"] is None:
            errors["status"] = "Select whether it has started"
        return await _destination_form(request, leaver_id, data, errors, status_code=422)
    await queries.put_destination(request.app.state.pool, leaver_id, body, user, uuid4())
    return RedirectResponse(f"/leavers/{leaver_id}?done=destination", status_code=303)


@pages.get("/upload")
async def upload_form(request: Request) -> Response:
    who(request)
    return web.render(request, "upload.html", title="Upload a leavers file", columns=leaver_csv.COLUMNS,
                      required=leaver_csv.REQUIRED, data={})


def _date_parts(form, name: str) -> tuple[dict, date | None, str | None]:
    """A GOV.UK date input's three fields: (what was typed, the date, a problem)."""
    parts = {p: (form.get(f"{name}-{p}") or "").strip() for p in ("day", "month", "year")}
    if not any(parts.values()):
        return parts, None, None
    try:
        return parts, date(int(parts["year"]), int(parts["month"]), int(parts["day"])), None
    except ValueError:
        return parts, None, "Enter the leaving date as a real date, for example 17 7 2026"


@pages.post("/upload")
async def upload(request: Request) -> Response:
    user = who(request)
    form = await request.form()
    web.check_csrf(request, form)
    parts, leaving, problem = _date_parts(form, "leaving_date")
    upload_file = form.get("file")
    data = await upload_file.read(queries.MAX_FILE_BYTES + 1) if hasattr(upload_file, "read") else b""
    errors = {"leaving_date": problem} if problem else {}
    if not data:
        errors["file"] = "Select a CSV or CTF file to upload"
    summary, rows = None, []
    if not errors:
        try:
            secret = request.app.state.settings.person_key_secret.get_secret_value()
            summary, rows = await queries.import_rows(request.app.state.pool, secret, user, user.laestab, data, leaving,
                                                      uuid4(), request.app.state.clock())
        except HTTPException as exc:
            if exc.status_code not in (413, 422):
                raise
            errors["file"] = exc.detail[0]["message"] if isinstance(exc.detail, list) else str(exc.detail)
    if summary:
        async with request.app.state.pool.acquire() as conn:
            await record_read(conn, user, "leaver", [r["leaver_id"] for r in summary["results"] if "leaver_id" in r],
                              ("given_name", "family_name", "upn"), action="import_results")
    results = [{**r, "name": " ".join(filter(None, (row.leaver.get("given_name"), row.leaver.get("family_name")))),
                "upn": row.leaver.get("upn")} for r, row in zip(summary["results"], rows)] if summary else []
    return web.render(request, "upload.html", status_code=422 if errors else 200, title="Upload a leavers file",
                      columns=leaver_csv.COLUMNS, required=leaver_csv.REQUIRED, data={"leaving_date": parts},
                      errors=errors, summary=summary, results=results,
                      filename=getattr(upload_file, "filename", None))


async def _summary(request: Request) -> list[dict]:
    user = who(request)
    latest = domain.leaving_year(request.app.state.clock())
    since = domain.leaving_year_bounds(latest - 2)[0]
    async with request.app.state.pool.acquire() as conn:
        rows = await store.best_known_activities(conn, user.laestab, since)
    return domain.destinations_summary(
        [(r["leaving_date"], domain.best_known_activity(r["la_activity"], r["destination"])) for r in rows], latest)


@pages.get("/destinations")
async def destinations(request: Request) -> Response:
    table = await _summary(request)
    return web.render(request, "destinations.html", title="Destinations summary", table=table,
                      groups=domain.DESTINATION_GROUPS, group_words=domain.DESTINATION_GROUP_WORDS,
                      most=max([n for row in table for n in row["counts"].values()] + [1]))


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection): text starting with
    = + - @ or a tab or carriage return gets a leading apostrophe."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@pages.get("/destinations.csv")
async def destinations_csv(request: Request) -> Response:
    table = await _summary(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Leaving year"] + [domain.DESTINATION_GROUP_WORDS[g] for g in domain.DESTINATION_GROUPS]
                    + ["Total"])
    for row in table:
        writer.writerow([safe_cell(f"{row['year'] - 1} to {row['year']}")]
                        + [row["counts"][g] for g in domain.DESTINATION_GROUPS] + [row["total"]])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="destinations-summary.csv"'})


def install(app: FastAPI) -> None:
    web.install(app, SITE)
    app.include_router(pages)
