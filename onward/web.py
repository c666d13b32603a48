"""Server-rendered pages shared by la_tracker and ncs_referral (GOV.UK Frontend, Jinja2).

- Assets come from the npm packages `govuk-frontend` and `@ministryofjustice/frontend`, compiled by
  `web/build.mjs` into `web/dist` (`make install`), served at `/assets` and `/static`.
- Sessions: a signed JWT in an HttpOnly, Secure, SameSite=Lax cookie, signed with a key derived from
  ONWARD_JWT_SECRET and the service's name, with the service's own session audience, so a session
  cookie is never accepted as an API bearer token (nor the reverse) nor by another service. The
  session lives on the server too (table web_sessions): signing out ends it.
- CSRF: every form carries HMAC(key, session id) when signed in, HMAC(key, nonce) before (the nonce
  in an HttpOnly SameSite=Strict cookie); a POST without the matching token answers 403.
- Sign-in: the development sign-in page (role and scope chosen from a list, ONWARD_DEV_SIGN_IN, refused
  in production) and OIDC (authlib) against ONWARD_OIDC_ISSUER for production.
- Errors: pages (not JSON) for 401 (to sign-in), 403, 404 and 409 outside `/v1`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from onward.auth import InvalidToken, Principal, count_export, decode_claims, issue_token, principal_from_claims
from onward.http import json_http_error
from onward import oidc, words as words_
from onward.la_data import local_authorities, ncs_areas
from onward.limits import client_of
from schemas import nccis

# Built by `make install` (web/build.mjs); the container image sets ONWARD_WEB_DIST to its copy.
WEB_DIST = Path(os.environ.get("ONWARD_WEB_DIST") or Path(__file__).resolve().parent.parent / "web" / "dist")
TEMPLATES = Path(__file__).resolve().parent / "templates"
SESSION_TTL = 8 * 3600
ROLE_NAMES = {"school": "School data manager", "la_staff": "LA tracking staff", "la_manager": "LA manager",
              "ncs_adviser": "NCS adviser", "admin": "Administrator"}


# GOV.UK Frontend's page template runs this first thing in <body>; the CSP allows exactly it by hash.
BODY_SCRIPT = ("document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype"
               " ? ' govuk-frontend-supported' : '');")
CSP = ("default-src 'self'; script-src 'self' 'sha256-"
       + base64.b64encode(hashlib.sha256(BODY_SCRIPT.encode()).digest()).decode()
       + "'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


class SignInNeeded(Exception):
    pass


@dataclass
class Site:
    """What one service's pages need: its name, the roles that may use it, its navigation."""
    service: str
    service_name: str
    roles: tuple[str, ...]
    nav: list[tuple[str, str]] = field(default_factory=list)  # (href, text)
    templates: Path | None = None


def _cookie(request: Request, kind: str) -> str:
    """Cookies are per host, not per port: each service's cookies carry its name so la_tracker and
    ncs_referral sessions on one host do not overwrite each other."""
    return f"onward_{request.app.state.site.service}_{kind}"


def _key(secret: str, purpose: str) -> str:
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def session_key(secret: str, service: str) -> str:
    """Each service signs its sessions with its own key (and audience): one service's cookie is
    nothing to another's."""
    return _key(secret, f"onward-web-session:{service}")


def session_audience(service: str) -> str:
    return f"onward:{service}:session"


def _session_key(request: Request) -> str:
    return session_key(request.app.state.settings.jwt_secret.get_secret_value(), request.app.state.site.service)


def _session_audience(request: Request) -> str:
    return session_audience(request.app.state.site.service)


def csrf_token(request: Request) -> str:
    """HMAC of the session's id when signed in (a planted nonce is worth nothing then); before sign-in,
    of the anonymous nonce cookie."""
    session_id = getattr(request.state, "session_id", None)
    bound = f"session:{session_id}" if session_id else f"anonymous:{request.state.csrf_nonce}"
    return hmac.new(_session_key(request).encode(), bound.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, form) -> None:
    sent = form.get("csrf_token") or ""
    if not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(request)):
        raise HTTPException(403, "The form had expired or did not come from this service. Go back, reload the page"
                                 " and try again.")


async def _load_session(request: Request) -> None:
    """request.state.user and .session_id from the session cookie, if its signature holds and the
    server still has the session (signing out deletes it)."""
    request.state.user = request.state.session_id = None
    cookie = request.cookies.get(_cookie(request, "session"))
    if not cookie:
        return
    try:
        claims = decode_claims(_session_key(request), cookie, audience=_session_audience(request),
                               max_ttl_seconds=SESSION_TTL)
        who = principal_from_claims(claims)
    except InvalidToken:
        return
    session_id = claims.get("jti")
    if isinstance(session_id, str) and await request.app.state.pool.fetchval(
            "select true from web_sessions where session_id = $1 and expires_at > now()", session_id):
        request.state.user, request.state.session_id = who, session_id


def current_user(request: Request) -> Principal | None:
    return getattr(request.state, "user", None)


def signed_in(request: Request, site: Site) -> Principal:
    """The page's user, or a redirect to sign in; a role this service does not serve answers 403."""
    who = current_user(request)
    if who is None:
        raise SignInNeeded()
    if who.role not in site.roles:
        raise HTTPException(403, f"You are signed in as {ROLE_NAMES.get(who.role, who.role)}; this service is for "
                                 + " and ".join(ROLE_NAMES[r] for r in site.roles) + ".")
    count_export(request, who)
    return who


async def start_session(request: Request, response: Response, who: Principal) -> None:
    """A new server-side session (and cookie) for `who`; its CSRF tokens are bound to it."""
    session_id = secrets.token_urlsafe(32)
    async with request.app.state.pool.acquire() as conn:
        await conn.execute("delete from web_sessions where expires_at < now()")
        await conn.execute("insert into web_sessions (session_id, sub, role, expires_at)"
                           " values ($1, $2, $3, now() + make_interval(secs => $4))",
                           session_id, who.sub, who.claimed_role, float(SESSION_TTL))
    token = issue_token(_session_key(request), role=who.claimed_role, sub=who.sub, laestab=who.laestab, la=who.la,
                        ncs_area=who.ncs_area, ttl_seconds=SESSION_TTL, audience=_session_audience(request),
                        jti=session_id, name=who.name)
    secure = request.app.state.settings.cookie_secure
    response.set_cookie(_cookie(request, "session"), token, max_age=SESSION_TTL, httponly=True, secure=secure, samesite="lax",
                        path="/")
    # A new session gets a new CSRF nonce (no fixation from before sign-in).
    response.set_cookie(_cookie(request, "csrf"), secrets.token_urlsafe(24), httponly=True, secure=secure, samesite="strict",
                        path="/")


async def end_session(request: Request) -> None:
    """Sign-out: the server forgets the session, so its cookie no longer works anywhere it was copied."""
    if request.state.session_id:
        await request.app.state.pool.execute("delete from web_sessions where session_id = $1", request.state.session_id)


def form_errors(exc: ValidationError) -> dict[str, str]:
    """Field name -> a message a person can act on, in GOV.UK style."""
    out: dict[str, str] = {}
    for err in exc.errors():
        name = ".".join(str(p) for p in err.get("loc", ())) or "form"
        if name in out:
            continue
        msg = err.get("msg", "is not valid").removeprefix("Value error, ")
        label = FIELD_LABELS.get(name, name.replace("_", " ").capitalize())
        kind = err.get("type", "")
        if kind in ("missing", "literal_error", "enum"):
            msg = f"Select {label.lower()}" if name in SELECTED else f"Enter {label.lower()}"
        elif kind.startswith("date") or kind.startswith("datetime"):
            msg = f"{label} must be a real date, for example 27 8 2026"
        elif kind.startswith("int") or kind.startswith("float"):
            msg = f"{label} must be a whole number"
        elif kind == "string_too_long":
            msg = f"{label} must be {err.get('ctx', {}).get('max_length')} characters or fewer"
        elif kind == "string_too_short":
            msg = f"Enter {label.lower()}"
        out[name] = msg[:1].upper() + msg[1:]
    return out


SELECTED = frozenset({"method", "outcome", "activity_code", "share_with_ncs", "source", "role", "scope", "decision",
                      "best_channel", "assignee"})
FIELD_LABELS = {"due_on": "Due date", "description": "What needs doing", "text": "The note", "wants": "What they want",
                "best_time": "Best time", "provider": "Provider", "assignee": "Who to assign",
                "contact_notes": "Contact notes", "access_needs": "Access or language needs", "note": "Note",
                "q": "Search", "priority": "Priority", "page": "Page",
                "method": "How you contacted them", "outcome": "The outcome", "activity_code": "An activity",
                "share_with_ncs": "Whether they consent", "source": "Who gave consent", "role": "A role",
                "scope": "An area", "decision": "A decision", "start_date": "Start date",
                "review_date": "Review date", "period_end": "Period end"}


def form_data(form, *names: str) -> dict[str, Any]:
    """The named fields of a submitted form; empty strings become None (not given)."""
    out = {}
    for name in names:
        value = form.get(name)
        if value is None and f"{name}-day" in form:
            value = date_from_parts(*(form.get(f"{name}-{p}") for p in ("day", "month", "year")))
        if isinstance(value, str):
            value = value.strip()
        out[name] = value if value not in ("", None) else None
    return out


def date_from_parts(day, month, year) -> str | None:
    """A GOV.UK date input's three boxes as YYYY-MM-DD (None when all are empty); a date that does
    not exist stays malformed, so validation says which field is wrong."""
    parts = [(p or "").strip() for p in (day, month, year)]
    if not any(parts):
        return None
    d, m, y = parts
    return f"{y:0>4}-{m:0>2}-{d:0>2}" if all(p.isascii() and p.isdigit() for p in parts) else f"{y}-{m}-{d}!"


def query_data(params, *names: str) -> dict[str, Any]:
    """Filters from a query string: only the ones given (so the model's defaults apply to the rest)."""
    return {k: v for k, v in form_data(params, *names).items() if v is not None}


def query_filters(params, model, status_choices) -> tuple[Any, dict[str, str]]:
    """A list page's filters from its query string as `model`, with a message for each bad one (which is
    then dropped, so the page still shows): any field the model refuses, and a status not among
    `status_choices`."""
    try:
        filters, errors = model.model_validate(query_data(params, *model.model_fields)), {}
    except ValidationError as exc:
        filters, errors = model(), form_errors(exc)
    if filters.status and filters.status not in status_choices:
        errors["status"], filters.status = "Select a status from the list", None
    return filters, errors


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths (no scheme, no host, no '//') are followed after sign-in."""
    if not target:
        return default
    parts = urlsplit(target)
    # Browsers read a backslash as a slash, so "/\\host" would leave the site too.
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def activity_label(code: str | None) -> str:
    if not code:
        return "Not recorded"
    name = nccis.ACTIVITY_CODES.get(code, ("Unknown code",))[0]
    return f"{code} – {name}"


def words(value: str | None) -> str:
    text = (value or "").replace("_", " ").capitalize()
    return " ".join(ACRONYMS.get(w.lower(), w) for w in text.split(" "))


ACRONYMS = {"ncs": "NCS", "neet": "NEET", "la": "LA", "send": "SEND", "ehc": "EHC", "eet": "EET", "yot": "YOT",
            "upn": "UPN", "uln": "ULN", "ncs_area": "NCS area"}


STATUS_TAG = {"not_known": "grey", "awaiting_confirmation": "yellow", "neet": "red", "referred_to_ncs": "purple",
              "send_caseload": "blue", "leaving_care": "pink", "closed": "green", "transferred": "grey",
              "new": "blue", "claimed": "light-blue", "in_contact": "turquoise", "withdrawn": "grey",
              "returned_to_la": "orange", "requested": "blue", "received": "light-blue"}


def _environment(site: Site) -> Environment:
    loaders = [FileSystemLoader(str(site.templates))] if site.templates else []
    # GOV.UK Frontend's components from the maintained Jinja port (govuk-frontend-jinja 4.x: GOV.UK Frontend 6.x).
    port = PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")})
    env = Environment(loader=ChoiceLoader([*loaders, FileSystemLoader(str(TEMPLATES)), port]),
                      autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
    env.globals.update(activity_label=activity_label, activity_codes=nccis.ACTIVITY_CODES, STATUS_TAG=STATUS_TAG)
    env.filters["words"] = words
    env.globals.update(la_name=words_.la_name, timeline_title=words_.timeline_title,
                       timeline_actor=words_.timeline_actor, timeline_details=words_.timeline_details,
                       reason_words=words, words=words)  # a service may set reason_words to its own reasons in words
    env.filters["long_date"], env.filters["london_time"] = words_.long_date, words_.london_time
    env.filters["urlquote"] = lambda v: quote(str(v), safe="")
    env.globals["ui"] = env.get_template("macros.html").module  # the component macros, in every template
    return env


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    site: Site = request.app.state.site
    who = current_user(request)
    html = request.app.state.jinja.get_template(template).render(
        request=request, site=site, user=who, body_script=BODY_SCRIPT, role_name=ROLE_NAMES.get(who.claimed_role, "") if who else "",
        csrf_token=csrf_token(request), path=request.url.path, errors=context.pop("errors", None) or {},
        **context)
    return HTMLResponse(html, status_code=status_code)


def install(app: FastAPI, site: Site) -> None:
    """Mount assets, the session/CSRF middleware, sign-in and sign-out, and HTML error pages."""
    if not (WEB_DIST / "app.css").exists():
        raise RuntimeError(f"{WEB_DIST}/app.css is missing: run `make install` (npm ci && npm run build in web/)")
    app.state.site = site
    app.state.jinja = _environment(site)
    app.mount("/assets", StaticFiles(directory=WEB_DIST / "assets"), name="assets")
    app.mount("/static", StaticFiles(directory=WEB_DIST), name="static")

    @app.middleware("http")
    async def _web_headers(request: Request, call_next):
        nonce = request.cookies.get(_cookie(request, "csrf"))
        fresh = not nonce or len(nonce) > 64
        request.state.csrf_nonce = secrets.token_urlsafe(24) if fresh else nonce
        if _is_page(request) and not request.url.path.startswith(("/static", "/assets")):
            await _load_session(request)
        response = await call_next(request)
        if fresh and not request.url.path.startswith(("/v1", "/static", "/assets")):
            if _cookie(request, "csrf") not in response.headers.get("set-cookie", ""):
                response.set_cookie(_cookie(request, "csrf"), request.state.csrf_nonce, httponly=True,
                                    secure=request.app.state.settings.cookie_secure, samesite="strict", path="/")
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault("Cache-Control", "no-store")  # pages hold personal data
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    def _is_page(request: Request) -> bool:
        return not request.url.path.startswith(("/v1", "/healthz", "/readyz", "/metrics", "/docs", "/openapi"))

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, _: SignInNeeded) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if not _is_page(request):
            return json_http_error(request, exc)
        titles = {403: "You cannot see this page", 404: "Page not found", 405: "Page not found",
                  409: "That could not be done", 429: "Too many attempts"}
        detail = exc.detail if isinstance(exc.detail, str) else ""
        page = render(request, "error.html", status_code=exc.status_code,
                      title=titles.get(exc.status_code, "Sorry, there is a problem"), detail=detail,
                      status=exc.status_code)
        page.headers.update(exc.headers or {})  # e.g. Retry-After on a 429
        return page

    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        signed_in(request, site)
        return RedirectResponse(site.nav[0][0], status_code=303)  # the service's first page: its queue

    @app.get("/sign-in", include_in_schema=False)
    async def sign_in_page(request: Request, next: str | None = None) -> HTMLResponse:
        return _sign_in_page(request, safe_next(next), {}, {})

    @app.post("/sign-in", include_in_schema=False)
    async def sign_in(request: Request) -> Response:
        form = await request.form()
        check_csrf(request, form)
        settings = request.app.state.settings
        if not settings.dev_sign_in:
            raise HTTPException(404, "Development sign-in is switched off.")
        request.app.state.limits.sign_in_client.check(client_of(request), "sign-in attempts")
        data = form_data(form, "role", "scope", "name", "next")
        errors = {}
        if data["role"] not in site.roles:
            errors["role"] = "Select a role"
        scope_claim = {"school": "laestab", "la_staff": "la", "la_manager": "la", "ncs_adviser": "ncs_area"}.get(data["role"] or "")
        if scope_claim == "laestab" and not re.fullmatch(r"[0-9]{7}", data["scope"] or ""):
            errors["scope"] = "Enter your school's LAESTAB: 7 digits, for example 8314001"
        elif scope_claim and not data["scope"]:
            errors["scope"] = "Select " + ("your local authority" if scope_claim == "la" else "your NCS area")
        if not errors:
            name = data["name"] or "dev"
            sub = f"dev-{data['role']}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
            request.app.state.limits.sign_in_account.check(sub, "sign-in attempts")
            try:
                who = principal_from_claims({"sub": sub, "role": data["role"], "name": data["name"],
                                             **({scope_claim: data["scope"]} if scope_claim else {})})
            except InvalidToken:
                errors["scope"] = "Select one from the list"
        if errors:
            return _sign_in_page(request, safe_next(data["next"]), errors, data, status_code=422)
        response = RedirectResponse(safe_next(data["next"]), status_code=303)
        await start_session(request, response, who)
        return response

    @app.post("/sign-out", include_in_schema=False)
    async def sign_out(request: Request) -> Response:
        check_csrf(request, await request.form())
        await end_session(request)
        response = RedirectResponse("/sign-in?signed_out=1", status_code=303)
        response.delete_cookie(_cookie(request, "session"), path="/")
        response.delete_cookie(_cookie(request, "csrf"), path="/")
        return response

    oidc.install(app, site, start_session)

    def _sign_in_page(request: Request, next_url: str, errors: dict, data: dict, status_code: int = 200):
        settings = request.app.state.settings
        scopes = []
        if "la_staff" in site.roles:
            scopes = [(code, f"{la.name} ({code})") for code, la in sorted(local_authorities().items(),
                                                                            key=lambda kv: kv[1].name)]
        elif "ncs_adviser" in site.roles:
            scopes = [(area, area) for area in sorted(ncs_areas())]
        return render(request, "sign_in.html", status_code=status_code, title="Sign in", next=next_url,
                      errors=errors, data=data, scopes=scopes, dev_sign_in=settings.dev_sign_in,
                      oidc=bool(settings.oidc_issuer), roles=[(r, ROLE_NAMES[r]) for r in site.roles],
                      signed_out="signed_out" in request.query_params)
