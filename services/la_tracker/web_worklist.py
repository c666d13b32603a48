"""The LA's work list pages: the queue (open cases by default, "My cases", search, filters, CSV of the
current list, bulk assignment) and "Due today" (follow-up tasks). Each calls the functions the JSON
API calls (services/la_tracker/queries.py), so scoping and audit are one implementation."""
from __future__ import annotations

from datetime import date
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from onward import web
from onward.http import download
from onward.audit import record_read
from services.la_tracker import casework, domain, queries, store, store_casework, worklist
from services.la_tracker.casework_wire import BulkAssignIn
from services.la_tracker.web import who

pages = APIRouter(include_in_schema=False)
PAGE_SIZE = 25
SORTS = [("worklist", "Returned by the NCS, then highest priority"), ("-opened_at", "Newest first"),
         ("opened_at", "Oldest first"), ("-updated_at", "Recently updated"), ("last_contact_at", "Least recently contacted")]
FILTERS = ("status", "assigned", "priority", "reason", "min_age_days", "q", "asked", "sort", "page")
VIEWS = [("open", None, "Open"), ("open", "me", "My cases"), ("open", "none", "Unassigned")]


def read_filters(params) -> tuple[dict, dict]:
    """The queue's filters from the query string, each checked with an error that names the field.
    No status means open cases; `all` means every status, closed and transferred included."""
    f = web.query_data(params, *FILTERS)
    errors: dict[str, str] = {}
    f["status"] = f.get("status") or "open"
    if f["status"] not in ("open", "all", *domain.CASE_STATUSES):
        errors["status"], f["status"] = "Select a status from the list", "open"
    if f.get("reason") is not None and (len(f["reason"]) > 64 or "\x00" in f["reason"]):
        errors["reason"], f["reason"] = "Select a reason from the list", None
    if f.get("asked") not in (None, "yes"):  # young people who asked for help on their own pages (issue 17)
        errors["asked"], f["asked"] = "Select whether to show only young people who asked for help", None
    if f.get("assigned") not in (None, "me", "none"):
        errors["assigned"], f["assigned"] = "Select whose cases to show from the list", None
    for name, low, high, message in (("priority", 1, 3, "Select a priority from the list"),
                                     ("min_age_days", 0, 36500, "Enter the days open as a whole number from 0 to 36500"),
                                     ("page", 1, 100_000, "Enter a page number")):
        if f.get(name) is not None:
            text = str(f[name])
            f[name] = int(text) if text.isascii() and text.isdigit() and low <= int(text) <= high else None
            if f[name] is None:
                errors[name] = message
    q = f.get("q")
    if q is not None and (len(q) < 2 or "\x00" in q or len(q) > 100):
        errors["q"], f["q"] = "Enter at least 2 characters: part of a name, a UPN, a ULN or a date of birth", None
    elif q and worklist.DOB.fullmatch(q.strip()):
        try:
            date.fromisoformat(q.strip())
        except ValueError:
            errors["q"], f["q"] = "Enter a date of birth that exists, as year-month-day, for example 2008-08-27", None
    if f.get("sort") and f["sort"].lstrip("-") not in queries.CASE_SORTS:
        errors["sort"], f["sort"] = "Select an order from the list", None
    return f, errors


def _api_args(f: dict) -> dict:
    return dict(status=None if f["status"] == "all" else f["status"], priority=f.get("priority"),
                reason=f.get("reason"), q=f.get("q"), min_age_days=f.get("min_age_days"), assigned=f.get("assigned"),
                sort=f.get("sort") or "worklist", asked_for_help=True if f.get("asked") == "yes" else None)


@pages.get("/cases")
async def queue(request: Request) -> Response:
    user = who(request)
    f, errors = read_filters(request.query_params)
    page_no = f.get("page") or 1
    result = await queries.list_cases(request.app.state.pool, user, page_no=page_no, page_size=PAGE_SIZE,
                                      **_api_args(f))
    kept = {k: v for k, v in f.items() if v is not None and k != "page" and not (k == "status" and v == "open")}
    base = "/cases?" + (urlencode(kept) + "&" if kept else "")
    last = max(1, -(-result["total"] // PAGE_SIZE))
    if page_no > last:  # beyond the end: the last page that has cases, not an empty table
        return RedirectResponse(f"{base}page={last}", status_code=303)
    async with request.app.state.pool.acquire() as conn:
        await casework.seen(conn, user)
        await record_read(conn, user, "case", [c["case_id"] for c in result["items"]],
                              ("given_name", "family_name"), action="list")
        reasons = await store.reasons_in_use(conn, user.la)
        staff = await store_casework.staff_of(conn, user.la)
        mine = await store.open_cases_assigned(conn, user.sub)
    for case in result["items"]:
        case["name"] = f"{case['given_name']} {case['family_name']}" if case.get("given_name") else "(merged record)"
        case["due_or_review"] = worklist.due_or_review(case)
    counts = result["counts"]
    total_open = sum(n for s, n in counts.items() if s in domain.OPEN_STATUSES)
    return web.render(request, "queue.html", title="Cases", result=result, filters=f, errors=errors,
                      statuses=domain.CASE_STATUSES,
                      reason_options=[(r, domain.reason_text(r)) for r in reasons],
                      staff_options=[(s["sub"], s["name"]) for s in staff],
                      sorts=SORTS, base=base, kept=kept, total_open=total_open, total_all=sum(counts.values()),
                      mine=mine, reason_text=domain.reason_text, page_size=PAGE_SIZE,
                      csv_href="/cases.csv" + ("?" + urlencode(kept) if kept else ""),
                      done={"assigned": "Cases assigned"}.get(request.query_params.get("done", "")))


@pages.get("/cases.csv")
async def queue_csv(request: Request) -> Response:
    user = who(request)
    f, errors = read_filters(request.query_params)
    if errors:
        raise HTTPException(422, "; ".join(errors.values()))
    return download(await queries.export_cases(request.app.state.pool, user, **_api_args(f)), "text/csv", "cases.csv")


@pages.post("/cases/assign")
async def assign_many(request: Request) -> Response:
    user = who(request)
    form = await request.form()
    web.check_csrf(request, form)
    ids = [v for v in form.getlist("case_id") if isinstance(v, str)]
    assignee = form.get("assignee") or None
    back = web.safe_next(form.get("back") if isinstance(form.get("back"), str) else None, "/cases")
    if not ids:
        raise HTTPException(409, "Select at least one case to assign.")
    try:
        body = BulkAssignIn(case_ids=[UUID(i) for i in ids], assignee=assignee)
    except ValueError:
        raise HTTPException(409, "Select the cases again: the list had changed.") from None
    await queries.assign_many(request.app.state.pool, user, body)
    return RedirectResponse(back + ("&" if "?" in back else "?") + "done=assigned", status_code=303)


@pages.get("/tasks")
async def due_today(request: Request, mine: str | None = None) -> Response:
    user = who(request)
    today = request.app.state.clock()
    result = await queries.tasks(request.app.state.pool, user, today, mine=mine == "yes")
    for t in result["items"]:
        t["overdue"] = date.fromisoformat(t["due_on"]) < today
    return web.render(request, "tasks.html", title="Due today", tasks=result["items"], mine=mine == "yes",
                      today=today, done={"task": "Task marked as done"}.get(request.query_params.get("done", "")))


@pages.post("/tasks/{task_id}/done")
async def task_done(request: Request, task_id: UUID) -> Response:
    user = who(request)
    form = await request.form()
    web.check_csrf(request, form)
    await queries.complete_task(request.app.state.pool, task_id, user)
    back = web.safe_next(form.get("back") if isinstance(form.get("back"), str) else None, "/tasks")
    return RedirectResponse(back + ("&" if "?" in back else "?") + "done=task", status_code=303)
