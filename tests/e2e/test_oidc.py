"""OIDC sign-in for the pages, against a small identity provider run by the test: discovery, the
authorisation code flow, an RS256 ID token checked against the provider's JWKS (authlib does all of
it in the service). The ID token's `role` and scope claims decide what the person may see."""
from __future__ import annotations

import asyncio
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from authlib.jose import JsonWebKey, jwt
from fastapi import FastAPI, Form, Request
from fastapi.responses import RedirectResponse

from onward.settings import Settings
from tests.e2e.conftest import eventually
from tests.infra import PORT_OFFSET
from services.la_tracker.api import build_app

IDP_PORT, APP_PORT = 18110 + PORT_OFFSET, 18111 + PORT_OFFSET
ISSUER = f"http://127.0.0.1:{IDP_PORT}"
CLIENT_ID, CLIENT_SECRET = "onward-la", secrets.token_urlsafe(16)


def identity_provider(claims_for_next_login: dict) -> FastAPI:
    key = JsonWebKey.generate_key("RSA", 2048, is_private=True)
    key_dict = {**key.as_dict(is_private=False), "kid": "k1", "use": "sig", "alg": "RS256"}
    codes: dict[str, dict] = {}
    idp = FastAPI()

    @idp.get("/.well-known/openid-configuration")
    def discovery():
        return {"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize", "token_endpoint": f"{ISSUER}/token",
                "jwks_uri": f"{ISSUER}/jwks", "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]}

    @idp.get("/jwks")
    def jwks():
        return {"keys": [key_dict]}

    @idp.get("/authorize")
    def authorize(request: Request):
        q = request.query_params
        assert q["client_id"] == CLIENT_ID and q["response_type"] == "code"
        code = secrets.token_urlsafe(12)
        codes[code] = {"nonce": q.get("nonce"), "redirect_uri": q["redirect_uri"]}
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", status_code=302)

    @idp.post("/token")
    async def token(request: Request, code: str = Form(...), redirect_uri: str = Form(...)):
        auth = request.headers.get("authorization", "")
        form = await request.form()
        assert CLIENT_SECRET in (form.get("client_secret") or "") or auth.startswith("Basic ")
        grant = codes.pop(code)
        assert grant["redirect_uri"] == redirect_uri
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": grant["nonce"],
                  **claims_for_next_login}
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key).decode()
        return {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                "id_token": id_token}

    return idp


class Server(uvicorn.Server):
    def install_signal_handlers(self):  # runs inside the test's event loop
        pass


@pytest.fixture(scope="module")
async def oidc_site(databases):
    claims: dict = {}
    settings = Settings(DATABASE_URL=databases["la_tracker"], ONWARD_OIDC_ISSUER=ISSUER,
                        ONWARD_OIDC_CLIENT_ID=CLIENT_ID, ONWARD_OIDC_CLIENT_SECRET=CLIENT_SECRET,
                        ONWARD_DEV_SIGN_IN="false", ONWARD_COOKIE_SECURE="false")
    servers = [Server(uvicorn.Config(identity_provider(claims), port=IDP_PORT, log_level="warning")),
               Server(uvicorn.Config(build_app(settings), port=APP_PORT, log_level="warning"))]
    tasks = [asyncio.create_task(s.serve()) for s in servers]

    async def started():
        if any(t.done() for t in tasks):  # a server that could not start (port taken): fail now, with its error
            [t.result() for t in tasks if t.done()]
        return all(s.started for s in servers)
    await eventually(started, timeout=60)
    yield claims
    for s in servers:
        s.should_exit = True
    await asyncio.gather(*tasks)


async def _sign_in(http: httpx.AsyncClient) -> httpx.Response:
    r = await http.get("/sign-in/oidc")
    assert r.status_code == 302 and r.headers["location"].startswith(f"{ISSUER}/authorize")
    assert parse_qs(urlsplit(r.headers["location"]).query)["nonce"]
    r = await http.get(r.headers["location"])  # the provider sends the browser back with a code
    return await http.get(r.headers["location"])  # the service's callback


async def test_oidc_sign_in_gives_a_session_with_the_identity_providers_role_and_scope(oidc_site):
    oidc_site.clear()
    oidc_site.update({"sub": "officer-1@derby.example", "role": "la_staff", "la": "831", "name": "Olu Officer"})
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{APP_PORT}", timeout=10) as http:
        page = await http.get("/sign-in")
        assert "Sign in with your organisation" in page.text and "Development sign-in" not in page.text
        assert (await http.post("/sign-in", data={"role": "admin"})).status_code == 403  # no CSRF token, no dev sign-in
        r = await _sign_in(http)
        assert r.status_code == 303 and r.headers["location"] == "/"
        cases = await http.get("/cases")
        assert cases.status_code == 200 and "Olu Officer, LA tracking staff for Derby" in cases.text  # OIDC `name`


async def test_oidc_account_with_a_role_this_service_does_not_serve_is_refused(oidc_site):
    oidc_site.clear()
    oidc_site.update({"sub": "adviser@ncs.example", "role": "ncs_adviser", "ncs_area": "East Midlands"})
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{APP_PORT}", timeout=10) as http:
        r = await _sign_in(http)
        assert r.status_code == 403 and "role cannot use this service" in r.text
        assert (await http.get("/cases")).status_code == 303  # still not signed in
