"""The young person's pages under /you/ (issue 17): mobile-first GOV.UK pages, one question a page.

- `GET /you?t=<token>` greets by first name; `POST /you` uses the link (once) and starts a visit: a
  signed cookie (60 minutes, never past the link's expiry) holding the link's id and the answers in
  progress. An unknown, used, expired or malformed token gets one and the same 404 page (no hint
  which); a client making too many token look-ups in an hour gets 429; an ended or tampered visit 401.
- Each answer is an event (schemas/events_young_person.py) written to the outbox; the stream worker
  applies it (self_report.py). The pages change nothing else.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from uuid import UUID, uuid4

import jwt
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from onward import outbox, web
from onward.la_data import local_authorities
from schemas.events_young_person import DestinationSelfReported
from schemas.text import has_control_character
from services.la_tracker import outreach, store_you, young_person as yp
from services.la_tracker.you_forms import (WHERE_TITLES, WORDS_TITLES, VisitEnded, WrongPage, checked_date,
                                           problem, question_page, words_of)

router = APIRouter(include_in_schema=False)
COOKIE, PRODUCER = "onward_la_tracker_you", "la_tracker"


def _key(request: Request, purpose: str) -> str:
    secret = request.app.state.settings.jwt_secret.get_secret_value()
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def visit_of(request: Request) -> dict:
    try:
        return jwt.decode(request.cookies.get(COOKIE) or "", _key(request, "onward-you-visit"), algorithms=["HS256"],
                          options={"require": ["exp", "link"]})
    except jwt.PyJWTError:
        raise VisitEnded() from None


def go_to(request: Request, to: str, claims: dict) -> Response:
    response = RedirectResponse(to, status_code=303)
    token = jwt.encode(claims, _key(request, "onward-you-visit"), algorithm="HS256")
    response.set_cookie(COOKIE, token, max_age=max(1, claims["exp"] - int(time.time())), httponly=True,
                        secure=request.app.state.settings.cookie_secure, samesite="lax", path="/you")
    return response


async def read_form(request: Request):
    form = await request.form()
    web.check_csrf(request, form)
    return form


async def _over_limit(conn, request: Request) -> bool:
    """Token look-ups per client an hour (the address is kept as a keyed hash only)."""
    client = hmac.new(_key(request, "onward-you-client").encode(), (request.client.host if request.client else "").encode(),
                      hashlib.sha256).hexdigest()
    return await store_you.attempts(conn, client) > request.app.state.settings.you_lookups_per_hour


def _hash(request: Request, token: str) -> str:
    return yp.token_hash(outreach.link_key(request.app.state.settings), token)


@router.get("/you")
async def start(request: Request, t: str | None = None) -> Response:
    async with request.app.state.pool.acquire() as conn:
        if await _over_limit(conn, request):
            return problem(request, 429)
        link = await store_you.usable_link(conn, _hash(request, t)) if yp.plausible_token(t) else None
    if link is None:
        return problem(request, 404)
    la = local_authorities().get(link["responsible_la"])
    return web.render(request, "you_start.html", title="Tell us what you are doing", token=t,
                      first_name=yp.first_name(link["given_name"]), la_name=la.name if la else "your council",
                      minutes=yp.VISIT_MINUTES)


@router.post("/you")
async def redeem(request: Request) -> Response:
    token = (await read_form(request)).get("t")
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        if await _over_limit(conn, request):
            return problem(request, 429)
        used = await store_you.redeem_link(conn, _hash(request, token)) if yp.plausible_token(token) else None
    if used is None:
        return problem(request, 404)
    link_id, expires_at = used
    ends = min(int(time.time()) + yp.VISIT_MINUTES * 60, int(expires_at.timestamp()))
    return go_to(request, "/you/doing", {"link": str(link_id), "exp": ends})


@router.get("/you/doing")
async def doing(request: Request) -> Response:
    claims = visit_of(request)
    return question_page(request, "answer", "What are you doing now?", yp.ANSWERS, claims.get("answer"),
                         hint="Choose the one that fits best.")


@router.post("/you/doing")
async def doing_answer(request: Request) -> Response:
    claims = visit_of(request)
    answer = (await read_form(request)).get("answer")
    if answer not in yp.ANSWERS:
        return question_page(request, "answer", "What are you doing now?", yp.ANSWERS, None, status_code=422,
                             error="Select what you are doing now")
    claims = {**claims, "answer": answer, "follow_up": None}
    if yp.follow_up_of(answer):
        return go_to(request, "/you/doing/more", claims)
    return go_to(request, _after_code(yp.activity_code(answer)), claims)


def _after_code(code: str | None) -> str:
    return "/you/doing/where" if yp.asks_where(code) else "/you/doing/words"


FOLLOW_UP_TITLES = {"course": "What kind of course is it?", "job": "What kind of job is it?"}


@router.get("/you/doing/more")
async def more(request: Request) -> Response:
    claims = visit_of(request)
    question = yp.follow_up_of(claims.get("answer") or "something_else")
    if question is None:
        return go_to(request, "/you/doing", claims)
    return question_page(request, "follow_up", FOLLOW_UP_TITLES[question], yp.FOLLOW_UPS[question],
                         claims.get("follow_up"), back="/you/doing")


@router.post("/you/doing/more")
async def more_answer(request: Request) -> Response:
    claims = visit_of(request)
    follow_up = (await read_form(request)).get("follow_up")
    question = yp.follow_up_of(claims.get("answer") or "something_else")
    if question is None:
        return go_to(request, "/you/doing", claims)
    if follow_up not in yp.FOLLOW_UPS[question]:
        return question_page(request, "follow_up", FOLLOW_UP_TITLES[question], yp.FOLLOW_UPS[question], None,
                             back="/you/doing", status_code=422, error="Select the one that fits best")
    claims = {**claims, "follow_up": follow_up}
    return go_to(request, _after_code(yp.activity_code(claims["answer"], follow_up)), claims)


def _code(claims: dict, page: str) -> str | None:
    """The code of the answer so far; a page that does not follow from it goes to the one that does."""
    try:
        code = yp.activity_code(claims.get("answer") or "", claims.get("follow_up"))
    except yp.NotAnAnswer:
        raise WrongPage("/you/doing") from None
    if _after_code(code) != page:
        raise WrongPage(_after_code(code))
    return code


@router.get("/you/doing/where")
async def where(request: Request) -> Response:
    claims = visit_of(request)
    _code(claims, "/you/doing/where")
    title, label = WHERE_TITLES[claims["answer"]]
    return web.render(request, "you_where.html", title=title, provider_label=label, data={}, visiting=True,
                      back="/you/doing")


@router.post("/you/doing/where")
async def where_answer(request: Request) -> Response:
    claims = visit_of(request)
    code = _code(claims, "/you/doing/where")
    form = await read_form(request)
    data = web.form_data(form, "provider_name", "start_date-day", "start_date-month", "start_date-year")
    started, errors = checked_date(data, request.app.state.clock())
    if data["provider_name"] and len(data["provider_name"]) > 200:
        errors["provider_name"] = "Name must be 200 characters or fewer"
    elif data["provider_name"] and has_control_character(data["provider_name"]):
        errors["provider_name"] = "Remove the special characters that cannot be shown, then try again"
        data["provider_name"] = None  # not shown back: a control character has no place in the page
    if errors:
        title, label = WHERE_TITLES[claims["answer"]]
        return web.render(request, "you_where.html", status_code=422, title=title, provider_label=label, data=data,
                          errors=errors, visiting=True, back="/you/doing")
    return await emit(request, claims, "/you/help", lambda v: DestinationSelfReported(
        producer=PRODUCER, correlation_id=uuid4(), person_key=v["person_key"], link_id=v["link_id"],
        case_id=v["case_id"], answer=claims["answer"], activity_code=code, provider_name=data["provider_name"],
        start_date=started))


@router.get("/you/doing/words")
async def words(request: Request) -> Response:
    claims = visit_of(request)
    _code(claims, "/you/doing/words")
    title, hint = WORDS_TITLES[claims["answer"]]
    return web.render(request, "you_words.html", title=title, hint=hint, data={}, visiting=True, back="/you/doing")


@router.post("/you/doing/words")
async def words_answer(request: Request) -> Response:
    claims = visit_of(request)
    code = _code(claims, "/you/doing/words")
    said, error = words_of(await read_form(request), required=code is None)
    if error:
        title, hint = WORDS_TITLES[claims["answer"]]
        return web.render(request, "you_words.html", status_code=422, title=title, hint=hint, data={"words": said},
                          errors={"words": error}, visiting=True, back="/you/doing")
    return await emit(request, claims, "/you/help", lambda v: DestinationSelfReported(
        producer=PRODUCER, correlation_id=uuid4(), person_key=v["person_key"], link_id=v["link_id"],
        case_id=v["case_id"], answer=claims["answer"], activity_code=code, in_their_words=said))


async def visit_row(conn, claims: dict):
    v = await store_you.visit(conn, UUID(claims["link"]))
    if v is None:
        raise VisitEnded()  # the young person's data was erased meanwhile
    return v


async def emit(request: Request, claims: dict, to: str, make_event) -> Response:
    """One answer: the event, in one transaction with the visit's change count (at most
    MAX_CHANGES_PER_VISIT a visit, else 429)."""
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        v = await visit_row(conn, claims)
        if await store_you.count_change(conn, v["link_id"]) > yp.MAX_CHANGES_PER_VISIT:
            return problem(request, 429)
        await outbox.add(conn, make_event(v))
    return go_to(request, to, claims)


def install(app: FastAPI) -> None:
    """The young person's pages' errors; api.build_app includes their routers (this module's, then
    you_help_web's and dev_mailbox's, which import this one)."""
    app.include_router(router)

    @app.exception_handler(VisitEnded)
    async def _ended(request: Request, _: VisitEnded) -> Response:
        return problem(request, 401)

    @app.exception_handler(WrongPage)
    async def _elsewhere(request: Request, exc: WrongPage) -> Response:
        return RedirectResponse(exc.to, status_code=303)

