"""The young person's pages, second half: "Would you like help from a careers adviser?" (consent to share
with the NCS, recorded with source young_person_online and its time, and how and when to contact them),
the confirmation, and "Who has your information" with withdrawal per recipient. Each change is an event."""
from __future__ import annotations

from datetime import datetime, timezone
from uuid import uuid4

from fastapi import APIRouter, Request
from fastapi.responses import Response

from onward import web
from onward.la_data import local_authorities
from schemas.events_young_person import ConsentWithdrawn, HelpRequested
from services.la_tracker import domain, young_person as yp
from services.la_tracker.you_forms import question_page, words_of
from services.la_tracker.you_web import PRODUCER, emit, read_form, go_to, visit_of, visit_row

router = APIRouter(include_in_schema=False)


HELP_TITLE = "Would you like help from a careers adviser?"
HELP_HINT = "An adviser from the National Careers Service can help you find work, training or a course. It is free."


@router.get("/you/help")
async def help_question(request: Request) -> Response:
    visit_of(request)
    return question_page(request, "wants_help", HELP_TITLE, {"yes": ("Yes", None), "no": ("No", None)}, None,
                         hint=HELP_HINT)


@router.post("/you/help")
async def help_answer(request: Request) -> Response:
    claims = visit_of(request)
    wants = (await read_form(request)).get("wants_help")
    if wants not in ("yes", "no"):
        return question_page(request, "wants_help", HELP_TITLE, {"yes": ("Yes", None), "no": ("No", None)}, None,
                             hint=HELP_HINT, status_code=422, error="Select yes if you would like help")
    return go_to(request, "/you/help/contact" if wants == "yes" else "/you/done", claims)


@router.get("/you/help/contact")
async def contact(request: Request) -> Response:
    visit_of(request)
    return _contact_page(request, {}, {})


def _contact_page(request: Request, data: dict, errors: dict, status_code: int = 200) -> Response:
    return web.render(request, "you_contact.html", status_code=status_code, title="How should the adviser contact you?",
                      contact_by=list(yp.CONTACT_BY.items()), contact_time=list(yp.CONTACT_TIME.items()), data=data,
                      errors=errors, visiting=True, back="/you/help")


@router.post("/you/help/contact")
async def contact_answer(request: Request) -> Response:
    claims = visit_of(request)
    form = await read_form(request)
    data = {"contact_by": form.get("contact_by"), "contact_time": form.get("contact_time")}
    said, error = words_of(form, required=False)
    errors = {k: m for k, m, choices in (("contact_by", "Select the best way to contact you", yp.CONTACT_BY),
                                         ("contact_time", "Select the best time", yp.CONTACT_TIME))
              if data[k] not in choices}
    if error:
        errors["words"] = error
    if errors:
        return _contact_page(request, {**data, "words": said}, errors, status_code=422)
    return await emit(request, {**claims, "helped": True}, "/you/done", lambda v: HelpRequested(
        producer=PRODUCER, correlation_id=uuid4(), person_key=v["person_key"], link_id=v["link_id"],
        case_id=v["case_id"], share_with_ncs=True, consent_recorded_at=datetime.now(timezone.utc),
        contact_by=data["contact_by"], contact_time=data["contact_time"], in_their_words=said))


@router.get("/you/done")
async def done(request: Request) -> Response:
    claims = visit_of(request)
    async with request.app.state.pool.acquire() as conn:
        v = await visit_row(conn, claims)
    return web.render(request, "you_done.html", title="Thank you for telling us", visiting=True,
                      first_name=yp.first_name(v["given_name"]), asked_for_help=claims.get("helped"))


@router.get("/you/your-information")
async def your_information(request: Request, stopped: str | None = None) -> Response:
    claims = visit_of(request)
    async with request.app.state.pool.acquire() as conn:
        v = await visit_row(conn, claims)
    la = local_authorities().get(v["responsible_la"])
    sharing = not claims.get("stopped") and (claims.get("helped") or v["consent_to_ncs"]
                                             or v["referral_status"] in domain.ACTIVE_REFERRAL)
    return web.render(request, "you_information.html", title="Who has your information", visiting=True,
                      la_name=la.name if la else "Your council", sharing=sharing, stopped=bool(stopped))


@router.post("/you/your-information/ncs")
async def stop_sharing(request: Request) -> Response:
    claims = visit_of(request)
    await read_form(request)
    return await emit(request, {**claims, "helped": False, "stopped": True}, "/you/your-information?stopped=1",
                       lambda v: ConsentWithdrawn(producer=PRODUCER, correlation_id=uuid4(), person_key=v["person_key"],
                                                  link_id=v["link_id"], case_id=v["case_id"], recipient="ncs",
                                                  withdrawn_at=datetime.now(timezone.utc)))
