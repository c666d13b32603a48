"""ncs_referral's pages for NCS advisers: the area queue with waiting times ("My referrals", bulk assignment),
the referral, claim, assignment, contact, outcome.

Each page calls services/ncs_referral/queries.py, as the JSON API does: the same rules, area scoping
(another area's referral is a 404) and audit.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from onward import web
from services.ncs_referral import domain, queries, search
from services.ncs_referral.wire import AssignIn, BulkAssignIn, ContactIn, OutcomeIn

SITE = web.Site(service="ncs_referral", service_name="NCS referrals", roles=("ncs_adviser", "admin"),
                nav=[("/referrals", "Referrals")], templates=Path(__file__).parent / "templates")
pages = APIRouter(include_in_schema=False)
METHODS = [(m, m.replace("_", " ").capitalize()) for m in ContactIn.model_fields["method"].annotation.__args__]
OUTCOMES = [(m, m.replace("_", " ").capitalize()) for m in ContactIn.model_fields["outcome"].annotation.__args__]
SORTS = [("priority", "Highest priority"), ("received_at", "Waiting longest"), ("-received_at", "Newest first"),
         ("-updated_at", "Recently updated")]
DONE = {"claim": "You have claimed this referral", "contact": "Contact recorded", "outcome": "Outcome recorded",
        "returned": "Returned to the LA as 'cannot be contacted'. You can undo this for one day.",
        "undo-return": "Return undone: the referral is yours again", "assign": "Referral assigned",
        "assigned": "Referrals assigned"}


def who(request: Request):
    return web.signed_in(request, SITE)


class Filters(BaseModel):
    status: str | None = None
    sort: str | None = None
    page: int = Field(1, ge=1, le=100_000)
    q: str | None = None
    assigned: str | None = None  # me, none or an adviser's staff id


def waiting(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours = rest // 3600
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    return f"{hours} h {rest % 3600 // 60} min" if hours else f"{rest // 60} min"


@pages.get("/referrals")
async def queue(request: Request) -> Response:
    user = who(request)
    filters, errors = web.query_filters(request.query_params, Filters, domain.REFERRAL_STATUSES)
    if filters.sort and filters.sort.lstrip("-") not in queries.SORT_KEYS:
        errors["sort"], filters.sort = "Select an order from the list", None
    if filters.q is not None and not search.is_valid(filters.q):
        errors["q"], filters.q = "Enter at least 2 characters of a name, or a date of birth that exists as 2008-08-27", None
    pool = request.app.state.pool
    advisers = [(a["sub"], a["name"]) for a in await queries.advisers(pool, user)]
    if filters.assigned not in (None, "me", "none", *(sub for sub, _ in advisers)):
        errors["assigned"], filters.assigned = "Select whose referrals to show from the list", None
    result, counts = await queries.named_queue(pool, user, status=filters.status, q=filters.q,
                                               sort=filters.sort or "priority", page_no=max(filters.page, 1),
                                               assigned=filters.assigned)
    ages = await queries.queue_age(pool, user)
    for r in result["items"]:
        r["waiting"] = waiting(r["waiting_seconds"])
    kept = {k: v for k, v in filters.model_dump().items() if v is not None and k != "page"}
    area = ages["areas"].get(user.ncs_area) if user.ncs_area else None
    base = "/referrals?" + (urlencode(kept) + "&" if kept else "")
    return web.render(request, "queue.html", title="My referrals" if filters.assigned == "me" else "Referrals",
                      result=result, filters=filters, errors=errors, statuses=domain.REFERRAL_STATUSES, counts=counts,
                      sorts=SORTS, base=base, area=area, bands=ages["bands"], mine=await queries.mine(pool, user),
                      oldest=waiting(area["oldest_waiting_seconds"]) if area else None, advisers=advisers,
                      assigned_options=[("me", "Me"), ("none", "Nobody"), *(a for a in advisers if a[0] != user.sub)],
                      done=DONE.get(request.query_params.get("done", "")))


@pages.post("/referrals/assign")
async def assign_many(request: Request) -> Response:
    """Bulk assignment from the queue: the ticked referrals to one adviser, all or none."""
    user = who(request)
    form = await request.form()
    web.check_csrf(request, form)
    body = BulkAssignIn(referral_ids=web.ticked_ids(form, "referral_id", "referral"),
                        assignee=form.get("assignee") or None)
    await queries.assign_many(request.app.state.pool, user, body)
    return web.back_to_list(form, "/referrals", "assigned")


async def _referral_page(request: Request, referral_id: UUID, template: str = "referral.html", status_code: int = 200,
                         **extra) -> Response:
    referral = await queries.get_referral(request.app.state.pool, who(request), referral_id)
    referral["waiting"] = waiting(referral["waiting_seconds"])
    user = who(request)
    advisers = await queries.advisers(request.app.state.pool, user)
    extra["assign_options"] = ([(user.sub, f"Me ({user.label})")] if user.ncs_area else []) + [
        (a["sub"], a["name"]) for a in advisers if a["sub"] != user.sub and a["ncs_area"] == referral["ncs_area"]] + (
        [] if referral["status"] in domain.WORKING else [("", "Nobody")])
    title = extra.pop("title", "Referral")
    name = f"{referral['handoff'].get('given_name')} {referral['handoff'].get('family_name')}"
    return web.render(request, template, status_code=status_code, title=title, page_title=f"{title} – {name}",
                      r=referral, done=DONE.get(request.query_params.get("done", "")), methods=METHODS,
                      outcomes=OUTCOMES, **extra)


@pages.get("/referrals/{referral_id}")
async def referral_page(request: Request, referral_id: UUID) -> Response:
    return await _referral_page(request, referral_id)


FORMS = {"contact": ("referral_contact.html", "Record a contact", ContactIn,
                     ("method", "outcome", "note", "confirm_return")),
         "outcome": ("referral_outcome.html", "Record the outcome", OutcomeIn,
                     ("activity_code", "provider", "start_date", "note")),
         "assign": ("referral_assign.html", "Assign this referral", AssignIn, ("assignee",))}
STEPS = {"contact": queries.record_contact, "outcome": queries.record_outcome, "assign": queries.assign}


@pages.get("/referrals/{referral_id}/{step}")
async def step_form(request: Request, referral_id: UUID, step: str) -> Response:
    if step not in FORMS:
        raise HTTPException(404, "page not found")
    template, title, _, _ = FORMS[step]
    return await _referral_page(request, referral_id, template, title=title, data={})


@pages.post("/referrals/{referral_id}/{step}")
async def step_submit(request: Request, referral_id: UUID, step: str) -> Response:
    if step not in (*FORMS, "claim", "undo-return"):
        raise HTTPException(404, "page not found")
    user = who(request)
    form = await request.form()
    web.check_csrf(request, form)
    errors: dict[str, str] = {}
    data: dict = {}
    pool = request.app.state.pool
    try:
        if step in ("claim", "undo-return"):
            await (queries.claim if step == "claim" else queries.undo_return)(pool, user, referral_id)
        else:
            _, _, model, names = FORMS[step]
            data = web.form_data(form, *names)
            if step == "contact":
                data["confirm_return"] = data.get("confirm_return") == "yes" or None
            body = model.model_validate({k: v for k, v in data.items() if v is not None})
            await STEPS[step](pool, user, referral_id, body)
    except ValidationError as exc:
        errors = web.form_errors(exc)
    except domain.ConfirmReturn as exc:  # the attempt that would return them to the LA: confirm it first
        return await _referral_page(request, referral_id, "referral_confirm_return.html",
                                    title="Return them to the LA?", data=data, warning=str(exc))
    except domain.NotAllowed as exc:
        errors = {"form": str(exc)[:1].upper() + str(exc)[1:]}
    if errors:
        template, title = (FORMS[step][0], FORMS[step][1]) if step in FORMS else ("referral.html", "Referral")
        return await _referral_page(request, referral_id, template, status_code=422 if step in FORMS else 409,
                                    title=title, data=data, errors=errors)
    done = "returned" if step == "contact" and data.get("confirm_return") else step
    return RedirectResponse(f"/referrals/{referral_id}?done={done}", status_code=303)


def install(app: FastAPI) -> None:
    web.install(app, SITE)
    app.include_router(pages)
