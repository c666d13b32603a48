"""Server-rendered pages shared by la_tracker, ncs_referral and school_exit (GOV.UK Frontend, Jinja2):
each service's Site, the templates' environment and filters, rendering, and the pages' HTTP plumbing.

- Assets come from the npm packages `govuk-frontend` and `@ministryofjustice/frontend`, compiled by
  `web/build.mjs` into `web/dist` (`make install`), served at `/assets` and `/static`.
- Sessions and CSRF: onward/web_session.py; sign-in and sign-out: onward/web_sign_in.py; reading
  forms and naming their errors: onward/web_forms.py. Their public names are importable from here too.
- Errors: pages (not JSON) for 401 (to sign-in), 403, 404 and 409 outside `/v1`.
"""
from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from onward import web_sign_in
from onward import words as words_
from onward.http import json_http_error
from onward.web_forms import (FIELD_LABELS, SELECTED, back_to_list, date_from_parts, form_data,  # noqa: F401
                              form_errors, query_data, query_filters, safe_next, ticked_ids)
from onward.web_session import (ROLE_NAMES, SESSION_TTL, SignInNeeded, check_csrf, cookie_name,  # noqa: F401
                                csrf_token, current_user, end_session, load_session, session_audience,
                                session_key, signed_in, start_session)
from onward.settings import WEB_DIST
from schemas import nccis

TEMPLATES = Path(__file__).resolve().parent / "templates"
# GOV.UK Frontend's page template runs this first thing in <body>; the CSP allows exactly it by hash.
BODY_SCRIPT = ("document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype"
               " ? ' govuk-frontend-supported' : '');")
CSP = ("default-src 'self'; script-src 'self' 'sha256-"
       + base64.b64encode(hashlib.sha256(BODY_SCRIPT.encode()).digest()).decode()
       + "'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


@dataclass
class Site:
    """What one service's pages need: its name, the roles that may use it, its navigation."""
    service: str
    service_name: str
    roles: tuple[str, ...]
    nav: list[tuple[str, str]] = field(default_factory=list)  # (href, text)
    templates: Path | None = None


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
        nonce = request.cookies.get(cookie_name(request, "csrf"))
        fresh = not nonce or len(nonce) > 64
        request.state.csrf_nonce = secrets.token_urlsafe(24) if fresh else nonce
        if _is_page(request) and not request.url.path.startswith(("/static", "/assets")):
            await load_session(request)
        response = await call_next(request)
        if fresh and not request.url.path.startswith(("/v1", "/static", "/assets")):
            if cookie_name(request, "csrf") not in response.headers.get("set-cookie", ""):
                response.set_cookie(cookie_name(request, "csrf"), request.state.csrf_nonce, httponly=True,
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

    web_sign_in.install(app, site, render)
