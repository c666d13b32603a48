"""OIDC sign-in for the web pages (production), with authlib's Starlette client.

Configured by ONWARD_OIDC_ISSUER, ONWARD_OIDC_CLIENT_ID and ONWARD_OIDC_CLIENT_SECRET. The identity
provider's ID token must carry `role` and the scope claim (`la` for LA staff, `ncs_area` for NCS
advisers): the same claims as the API's bearer tokens, checked by the same rules. authlib keeps the
state and nonce in Starlette's signed session cookie for the round trip.
"""
from __future__ import annotations

import hashlib
import hmac

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware

from onward.auth import InvalidToken, principal_from_claims
from onward.limits import client_of


def install(app: FastAPI, site, start_session) -> None:
    """OIDC sign-in for `site`; `start_session` (onward.web's) makes the page session once signed in."""
    settings = app.state.settings
    if not settings.oidc_issuer:
        return
    from authlib.integrations.starlette_client import OAuth, OAuthError

    # Per service, like the page sessions: one service's round-trip cookie is nothing to another's.
    secret = hmac.new(settings.jwt_secret.get_secret_value().encode(), f"onward-oidc-state:{site.service}".encode(),
                      hashlib.sha256).hexdigest()
    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie="onward_oidc", max_age=600,
                       same_site="lax", https_only=settings.cookie_secure)
    oauth = OAuth()
    oauth.register("idp", client_id=settings.oidc_client_id,
                   client_secret=settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None,
                   server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
                   client_kwargs={"scope": "openid profile"})

    @app.get("/sign-in/oidc", include_in_schema=False)
    async def oidc_start(request: Request) -> Response:
        request.app.state.limits.sign_in_client.check(client_of(request), "sign-in attempts")
        return await oauth.idp.authorize_redirect(request, str(request.url_for("oidc_callback")))

    @app.get("/sign-in/oidc/callback", name="oidc_callback", include_in_schema=False)
    async def oidc_callback(request: Request) -> Response:
        try:
            token = await oauth.idp.authorize_access_token(request)
        except OAuthError as exc:
            raise HTTPException(403, f"Sign-in failed at the identity provider: {exc.error}") from None
        claims = dict(token.get("userinfo") or {})
        try:
            who = principal_from_claims(claims)
        except InvalidToken as exc:
            raise HTTPException(403, f"Your account cannot use this service: {exc}") from None
        if who.role not in site.roles:
            raise HTTPException(403, "Your account's role cannot use this service.")
        request.app.state.limits.sign_in_account.check(who.sub, "sign-in attempts")
        response = RedirectResponse("/", status_code=303)
        await start_session(request, response, who)
        return response
