"""la_tracker's pages for LA tracking staff: the queue, the case, its actions, duplicate reviews, the NCCIS return.

Each page calls the same functions as the JSON API (services/la_tracker/queries*.py), so the rules,
scoping (another LA's case is a 404) and audit are one implementation; this module only presents them.
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from onward import web
from onward.http import download
from onward.la_data import local_authorities
from schemas import nccis
from services.la_tracker import domain, queries, queries_nccis, queries_reviews, store_casework
from services.la_tracker.casework_wire import CHANNELS, AssignIn, HandoffIn, NoteIn, TaskIn
from services.la_tracker.wire import ActivityIn, ConsentIn, ContactIn, ReviewDecision

SITE = web.Site(service="la_tracker", service_name="LA leaver tracking", roles=("la_staff", "la_manager", "admin"),
                nav=[("/cases", "Cases"), ("/tasks", "Due today"), ("/reviews", "Possible duplicates"),
                     ("/exports", "NCCIS return")],
                templates=Path(__file__).parent / "templates")
pages = APIRouter(include_in_schema=False)
CONTACT_METHODS = [(m, m.replace("_", " ").capitalize()) for m in ContactIn.model_fields["method"].annotation.__args__]
CONTACT_OUTCOMES = [(m, m.replace("_", " ").capitalize()) for m in ContactIn.model_fields["outcome"].annotation.__args__]
CONSENT_SOURCES = [("young_person_verbal", "The young person, verbally"),
                   ("young_person_written", "The young person, in writing"),
                   ("young_person_online", "The young person, online"),
                   ("parent_carer", "A parent or carer"), ("school", "The school")]
DONE = {"contact": "Contact recorded", "activity": "Activity recorded", "consent": "Consent recorded",
        "referral": "Referred to the National Careers Service", "review": "Decision recorded",
        "split": "Merge undone: they are two people again",
        "assign": "Case assigned", "task": "Task added", "note": "Note added",
        "handoff": "Saved: it goes with the referral"}


def who(request: Request):
    return web.signed_in(request, SITE)


async def _case_page(request: Request, case_id: UUID, template: str = "case.html", status_code: int = 200, **extra):
    case = await queries.get_case(request.app.state.pool, case_id, who(request))
    area = local_authorities()[case["responsible_la"]].region
    done = request.query_params.get("done", "")
    message = (f"Consent recorded and referred to {area} National Careers Service" if done == "consent_referred"
               else DONE.get(done))
    yp = case["young_person"]
    title = extra.pop("title", "Case")
    user = who(request)
    async with request.app.state.pool.acquire() as conn:
        extra.setdefault("tasks", await store_casework.open_tasks(conn, case_id))
        staff = await store_casework.staff_of(conn, case["responsible_la"])
    extra["assign_options"] = ([(user.sub, f"Me ({user.label})")] if user.la else []) + [
        (s["sub"], s["name"]) for s in staff if s["sub"] != user.sub] + [("", "Nobody")]
    c = case["consent"]
    blocker = domain.referral_blocker(case["status"], case["referral_status"], c["share_with_ncs"],
                                      c["objects_to_sharing"])
    return web.render(request, template, status_code=status_code, title=title, case=case, done=message,
                      page_title=f"{title} – {yp['given_name']} {yp['family_name']}",
                      ncs_area=area, can_refer=blocker is None, reason_text=domain.reason_text, **extra)


@pages.get("/cases/{case_id}")
async def case_page(request: Request, case_id: UUID) -> Response:
    return await _case_page(request, case_id)


FORMS = {
    "contact": ("case_contact.html", "Record a contact", ContactIn, ("method", "outcome", "note")),
    "activity": ("case_activity.html", "Record their activity", ActivityIn,
                 ("activity_code", "start_date", "review_date", "predicted_end_date", "characteristic")),
    "consent": ("case_consent.html", "Record consent to share with the National Careers Service", ConsentIn,
                ("share_with_ncs", "source")),
    "referral": ("case_refer.html", "Refer to the National Careers Service", HandoffIn,
                 ("wants", "best_time", "best_channel", "access_needs", "contact_notes", "share_notes",
                  "officer_contact")),
    "assign": ("case_assign.html", "Assign this case", AssignIn, ("assignee",)),
    "task": ("case_task.html", "Add a follow-up task", TaskIn, ("description", "due_on")),
    "note": ("case_note.html", "Add a note", NoteIn, ("text",)),
    "handoff": ("case_refer.html", "What the National Careers Service should know", HandoffIn,
                ("wants", "best_time", "best_channel", "access_needs", "contact_notes", "share_notes",
                 "officer_contact")),
}
ACTIONS = {"contact": queries.record_contact, "assign": queries.assign, "task": queries.add_task,
           "note": queries.add_note, "handoff": queries.set_handoff}


@pages.get("/cases/{case_id}/{action}")
async def action_form(request: Request, case_id: UUID, action: str) -> Response:
    if action not in FORMS:
        raise HTTPException(404, "page not found")
    template, title, _, _ = FORMS[action]
    return await _case_page(request, case_id, template, title=title, data={}, **_choices())


def _choices() -> dict:
    return {"methods": CONTACT_METHODS, "outcomes": CONTACT_OUTCOMES, "sources": CONSENT_SOURCES,
            "channels": [(c, web.words(c)) for c in CHANNELS]}


@pages.post("/cases/{case_id}/{action}")
async def action_submit(request: Request, case_id: UUID, action: str) -> Response:
    if action not in FORMS:
        raise HTTPException(404, "page not found")
    user, pool = who(request), request.app.state.pool
    form = await request.form()
    web.check_csrf(request, form)
    template, title, model, names = FORMS[action]
    data = web.form_data(form, *names)
    errors: dict[str, str] = {}
    done = action
    try:
        if action in ("referral", "handoff"):
            data["share_notes"] = data.get("share_notes") == "yes"
        if action == "referral":
            handoff = HandoffIn.model_validate({k: v for k, v in data.items() if v is not None})
            await queries.refer(pool, case_id, user, handoff.model_dump())
        else:
            if action == "consent" and data["share_with_ncs"] is not None:
                data["share_with_ncs"] = data["share_with_ncs"] == "yes"
            body = model.model_validate({k: v for k, v in data.items() if v is not None})
            if action == "activity":
                await queries.set_activity(pool, case_id, user, body, request.app.state.clock())
            elif action == "consent":
                result = await queries.record_consent(pool, case_id, user, body, request.app.state.clock())
                done = "consent_referred" if result.get("referred_to") else action
            else:
                await ACTIONS[action](pool, case_id, user, body)
    except ValidationError as exc:
        errors = web.form_errors(exc)
    except HTTPException as exc:
        if exc.status_code not in (409, 422):
            raise
        errors = ({e["field"]: e["message"] for e in exc.detail} if isinstance(exc.detail, list)
                  else {"form": str(exc.detail)[:1].upper() + str(exc.detail)[1:]})
    if errors:
        return await _case_page(request, case_id, template, status_code=422, title=title, data=data, errors=errors,
                                **_choices())
    return RedirectResponse(f"/cases/{case_id}?done={done}", status_code=303)


REVIEW_TABS = [("open", "To decide"), ("merged", "Merged"), ("kept_apart", "Kept apart"), ("split", "Split")]


@pages.get("/reviews")
async def reviews(request: Request, status: str = "open", page: int = 1) -> Response:
    if status not in dict(REVIEW_TABS) or not 1 <= page <= 100_000:
        raise HTTPException(404, "page not found")
    result = await queries_reviews.list_reviews(request.app.state.pool, who(request), status=status, page_no=page,
                                                page_size=10)
    return web.render(request, "reviews.html", title="Possible duplicates", result=result, status=status,
                      tabs=REVIEW_TABS, base=f"/reviews?status={status}&",
                      done=DONE.get(request.query_params.get("done", "")))


@pages.post("/reviews/{review_id}")
async def decide(request: Request, review_id: UUID) -> Response:
    """Keep apart at once; a merge is confirmed on a page of its own first."""
    user = who(request)
    form = await request.form()
    web.check_csrf(request, form)
    try:
        body = ReviewDecision.model_validate(web.form_data(form, "decision"))
    except ValidationError:
        raise HTTPException(422, "Choose whether to merge the records or keep them apart.") from None
    if body.decision == "merge" and form.get("confirm") != "yes":
        review = await queries_reviews.get_review(request.app.state.pool, review_id, user)
        return web.render(request, "review_confirm.html", title="Merge these records?", r=review)
    await queries_reviews.decide(request.app.state.pool, review_id, user, body.decision)
    return RedirectResponse("/reviews?done=review", status_code=303)


@pages.post("/reviews/{review_id}/split")
async def split(request: Request, review_id: UUID) -> Response:
    user = who(request)
    web.check_csrf(request, await request.form())
    await queries_reviews.split(request.app.state.pool, review_id, user, request.app.state.clock())
    return RedirectResponse("/reviews?status=split&done=split", status_code=303)


@pages.get("/exports")
async def exports(request: Request) -> Response:
    user = who(request)
    last_month_end = request.app.state.clock().replace(day=1) - timedelta(days=1)
    return web.render(request, "exports.html", title="NCCIS return", la=user.la, period_end=last_month_end.isoformat())


@pages.get("/exports/nccis.{fmt}")
async def export_file(request: Request, fmt: str, period_end: str | None = None, la: str | None = None) -> Response:
    user = who(request)
    if fmt not in ("xml", "csv"):
        raise HTTPException(404, "page not found")
    try:
        end = date.fromisoformat(period_end or "")
        if not queries_nccis.PERIOD_ENDS[0] <= end <= queries_nccis.PERIOD_ENDS[1]:
            raise ValueError(period_end)
    except ValueError:
        return web.render(request, "exports.html", status_code=422, title="NCCIS return", la=user.la,
                          period_end=period_end, errors={"period_end": "Enter the period end as a real date"})
    state = request.app.state
    text, media_type, name = await queries_nccis.return_file(state.pool, user, la, end, fmt, ids=state.nccis_ids,
                                                             env=state.env, today=state.clock())
    return download(text, media_type, name)


def install(app: FastAPI) -> None:
    web.install(app, SITE)
    app.state.jinja.globals.update(reason_words=domain.reason_text, characteristic_codes=nccis.CHARACTERISTIC_CODES)
    # The macros module copied the globals when it was made: make it again so the timeline sees the reasons.
    app.state.jinja.globals["ui"] = app.state.jinja.get_template("macros.html").make_module()
    app.include_router(pages)
