"""Sign-in and sign-out for the pages: the development sign-in page (role and scope chosen from a list,
ONWARD_DEV_SIGN_IN, refused in production) and OIDC (authlib, onward/oidc.py) against ONWARD_OIDC_ISSUER."""
from __future__ import annotations

import hashlib
import re

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onward import oidc
from onward.auth import InvalidToken, Principal, principal_from_claims
from onward.la_data import local_authorities, ncs_areas
from onward.limits import client_of
from onward.web_forms import form_data, safe_next
from onward.web_session import ROLE_NAMES, check_csrf, cookie_name, end_session, start_session

SCOPE_CLAIMS = {"school": "laestab", "la_staff": "la", "la_manager": "la", "ncs_adviser": "ncs_area"}


def install(app: FastAPI, site, render) -> None:
    """The sign-in page and form, sign-out, and OIDC when configured; `render` is onward.web's page
    renderer (passed in, so that this module does not import onward.web)."""

    @app.get("/sign-in", include_in_schema=False)
    async def sign_in_page(request: Request, next: str | None = None) -> HTMLResponse:
        return _sign_in_page(render, request, site, safe_next(next), {}, {})

    @app.post("/sign-in", include_in_schema=False)
    async def sign_in(request: Request) -> Response:
        form = await request.form()
        check_csrf(request, form)
        if not request.app.state.settings.dev_sign_in:
            raise HTTPException(404, "Development sign-in is switched off.")
        request.app.state.limits.sign_in_client.check(client_of(request), "sign-in attempts")
        data = form_data(form, "role", "scope", "name", "next")
        who, errors = _development_principal(request, site, data)
        if errors:
            return _sign_in_page(render, request, site, safe_next(data["next"]), errors, data, status_code=422)
        response = RedirectResponse(safe_next(data["next"]), status_code=303)
        await start_session(request, response, who)
        return response

    @app.post("/sign-out", include_in_schema=False)
    async def sign_out(request: Request) -> Response:
        check_csrf(request, await request.form())
        await end_session(request)
        response = RedirectResponse("/sign-in?signed_out=1", status_code=303)
        response.delete_cookie(cookie_name(request, "session"), path="/")
        response.delete_cookie(cookie_name(request, "csrf"), path="/")
        return response

    oidc.install(app, site, start_session)


def _development_principal(request: Request, site, data: dict) -> tuple[Principal | None, dict[str, str]]:
    """Who the development sign-in form says the person is (their sub derived from the name given), or
    the errors naming each field."""
    errors = {}
    if data["role"] not in site.roles:
        errors["role"] = "Select a role"
    scope_claim = SCOPE_CLAIMS.get(data["role"] or "")
    if scope_claim == "laestab" and not re.fullmatch(r"[0-9]{7}", data["scope"] or ""):
        errors["scope"] = "Enter your school's LAESTAB: 7 digits, for example 8314001"
    elif scope_claim and not data["scope"]:
        errors["scope"] = "Select " + ("your local authority" if scope_claim == "la" else "your NCS area")
    if errors:
        return None, errors
    name = data["name"] or "dev"
    sub = f"dev-{data['role']}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    request.app.state.limits.sign_in_account.check(sub, "sign-in attempts")
    try:
        return principal_from_claims({"sub": sub, "role": data["role"], "name": data["name"],
                                      **({scope_claim: data["scope"]} if scope_claim else {})}), {}
    except InvalidToken:
        return None, {"scope": "Select one from the list"}


def _sign_in_page(render, request: Request, site, next_url: str, errors: dict, data: dict, status_code: int = 200):
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
