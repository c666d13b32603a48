"""Page sessions and CSRF for la_tracker, ncs_referral and school_exit's pages.

- Sessions: a signed JWT in an HttpOnly, Secure, SameSite=Lax cookie, signed with a key derived from
  ONWARD_JWT_SECRET and the service's name, with the service's own session audience, so a session
  cookie is never accepted as an API bearer token (nor the reverse) nor by another service. The
  session lives on the server too (table web_sessions): signing out ends it.
- CSRF: every form carries HMAC(key, session id) when signed in, HMAC(key, nonce) before (the nonce
  in an HttpOnly SameSite=Strict cookie); a POST without the matching token answers 403.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import HTTPException, Request
from fastapi.responses import Response

from onward.auth import InvalidToken, Principal, count_export, decode_claims, issue_token, principal_from_claims

SESSION_TTL = 8 * 3600
ROLE_NAMES = {"school": "School data manager", "la_staff": "LA tracking staff", "la_manager": "LA manager",
              "ncs_adviser": "NCS adviser", "admin": "Administrator"}


class SignInNeeded(Exception):
    pass


def cookie_name(request: Request, kind: str) -> str:
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


async def load_session(request: Request) -> None:
    """request.state.user and .session_id from the session cookie, if its signature holds and the
    server still has the session (signing out deletes it)."""
    request.state.user = request.state.session_id = None
    cookie = request.cookies.get(cookie_name(request, "session"))
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


def signed_in(request: Request, site) -> Principal:
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
    response.set_cookie(cookie_name(request, "session"), token, max_age=SESSION_TTL, httponly=True, secure=secure, samesite="lax",
                        path="/")
    # A new session gets a new CSRF nonce (no fixation from before sign-in).
    response.set_cookie(cookie_name(request, "csrf"), secrets.token_urlsafe(24), httponly=True, secure=secure, samesite="strict",
                        path="/")


async def end_session(request: Request) -> None:
    """Sign-out: the server forgets the session, so its cookie no longer works anywhere it was copied."""
    if request.state.session_id:
        await request.app.state.pool.execute("delete from web_sessions where session_id = $1", request.state.session_id)
