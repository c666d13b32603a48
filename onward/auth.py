"""Bearer JWT authentication and the role/scope rules every endpoint applies.

Locally tokens are HS256 signed with ONWARD_JWT_SECRET (PyJWT). Only the expected algorithm is
accepted, so `alg: none` and algorithm-confusion tokens fail. Every token names its issuer (`iss`)
and audience (`aud`: the services it is for), carries `iat` and `exp`, and lives at most
ONWARD_TOKEN_MAX_TTL_SECONDS. Scope claims (text, checked by type and value): `laestab` for a
school, `la` for LA staff, `ncs_area` for an NCS adviser.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal, get_args

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from onward.la_data import local_authorities, ncs_areas
from onward.limits import client_of
from schemas.topics import SERVICES

Role = Literal["school", "la_staff", "la_manager", "ncs_adviser", "admin"]
ROLES: tuple[str, ...] = get_args(Role)  # what a token's `role` claim may say
SCOPE_CLAIM = {"school": "laestab", "la_staff": "la", "la_manager": "la", "ncs_adviser": "ncs_area"}


@dataclass(frozen=True, slots=True)
class Principal:
    sub: str
    role: str
    laestab: str | None = None
    la: str | None = None
    ncs_area: str | None = None
    name: str | None = None  # the person's name (OIDC `name` claim, development sign-in's name field)
    # An `la_manager` token: everything LA staff do (role is `la_staff`, so every LA scoping rule applies
    # unchanged), plus the LA's routing policy.
    manager: bool = False

    @property
    def claimed_role(self) -> str:
        """The role as the token states it (la_manager for a manager)."""
        return "la_manager" if self.manager else self.role

    @property
    def label(self) -> str:
        """How a person is shown on timelines and claims: their name, else their subject id."""
        return self.name or self.sub


class InvalidToken(Exception):
    pass


ISSUER = "onward"
CLOCK_SKEW_SECONDS = 60


def api_audience(service: str) -> str:
    """Each service accepts only bearer tokens addressed to it (`aud`)."""
    return f"onward:{service}"


API_AUDIENCES = tuple(api_audience(s) for s in SERVICES)


def issue_token(secret: str, *, role: str, sub: str | None = None, laestab: str | None = None,
                la: str | None = None, ncs_area: str | None = None, ttl_seconds: int = 8 * 3600,
                audience: str | tuple[str, ...] = API_AUDIENCES, issuer: str = ISSUER, jti: str | None = None,
                name: str | None = None) -> str:
    """A signed token for `role` and its scope, addressed by default to every service's API."""
    now = int(time.time())
    claims = {"sub": sub or f"dev-{role}", "role": role, "iat": now, "exp": now + ttl_seconds,
              "iss": issuer, "aud": list(audience) if isinstance(audience, tuple) else audience}
    for name_, value in (("laestab", laestab), ("la", la), ("ncs_area", ncs_area), ("jti", jti), ("name", name)):
        if value is not None:
            claims[name_] = value
    principal_from_claims(claims)  # refuse to mint a token the services would reject
    return jwt.encode(claims, secret, algorithm="HS256")


def principal_from_claims(claims: dict) -> Principal:
    """Role, subject and scope claims checked by type and value: anything else is an invalid token (401)."""
    role, sub = claims.get("role"), claims.get("sub")
    if not isinstance(role, str) or role not in ROLES or not isinstance(sub, str) or not sub:
        raise InvalidToken("token needs a sub and a role of " + ", ".join(ROLES))
    scope = SCOPE_CLAIM.get(role)
    value = claims.get(scope) if scope else None
    if scope and not isinstance(value, str):
        raise InvalidToken(f"a {role} token needs a text {scope} claim")
    if role == "school" and not (len(value) == 7 and value.isascii() and value.isdigit()):
        raise InvalidToken("a school token needs a 7-digit laestab claim")
    if role in ("la_staff", "la_manager") and value not in local_authorities():
        raise InvalidToken("an LA staff token needs an la claim with a DfE LA code")
    if role == "ncs_adviser" and value not in ncs_areas():
        raise InvalidToken("an NCS adviser token needs an ncs_area claim naming a region")
    name = claims.get("name")
    name = name.replace("\x00", "").strip()[:100] or None if isinstance(name, str) else None
    manager = role == "la_manager"
    return Principal(sub=sub, role="la_staff" if manager else role, name=name, manager=manager,
                     **({scope: value} if scope else {}))


def decode_claims(secret: str, token: str, *, audience: str, issuer: str = ISSUER,
                  max_ttl_seconds: int = 12 * 3600) -> dict:
    """The token's claims when its signature, `aud`, `iss`, `iat` and `exp` hold and its lifetime
    (exp - iat) is no longer than `max_ttl_seconds`."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], audience=audience, issuer=issuer,
                            leeway=CLOCK_SKEW_SECONDS, options={"require": ["exp", "iat", "sub", "aud", "iss"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"invalid token: {exc}") from None
    if not all(isinstance(claims[c], int) for c in ("iat", "exp")) or claims["exp"] - claims["iat"] > max_ttl_seconds:
        raise InvalidToken(f"invalid token: its lifetime is longer than {max_ttl_seconds} seconds")
    return claims


def decode_token(secret: str, token: str, *, audience: str, issuer: str = ISSUER,
                 max_ttl_seconds: int = 12 * 3600) -> Principal:
    return principal_from_claims(decode_claims(secret, token, audience=audience, issuer=issuer,
                                               max_ttl_seconds=max_ttl_seconds))


_bearer = HTTPBearer(auto_error=False)


def authenticated(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    if creds is None or creds.scheme.lower() != "bearer":
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    settings = request.app.state.settings
    audience = api_audience(getattr(request.app.state, "service", "unknown"))
    secrets = [settings.jwt_secret] + ([settings.jwt_secret_previous] if settings.jwt_secret_previous else [])
    for i, secret in enumerate(secrets):
        try:
            principal = decode_token(secret.get_secret_value(), creds.credentials, audience=audience,
                                     issuer=settings.jwt_issuer, max_ttl_seconds=settings.token_max_ttl_seconds)
        except InvalidToken as exc:
            if i == len(secrets) - 1 or "Signature verification failed" not in str(exc):
                raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
            continue
        count_export(request, principal)
        return principal


EXPORT_PATHS = ("/v1/exports/", "/exports/nccis.")


def count_export(request: Request, who: Principal) -> None:
    """Exports (whole LA returns) are rate-limited per client and per account: 429 past the limit."""
    limits = getattr(request.app.state, "limits", None)
    if limits is None or not request.url.path.startswith(EXPORT_PATHS):
        return
    limits.exports_client.check(client_of(request), "exports")
    limits.exports_account.check(f"{who.role}:{who.sub}", "exports")


def require(*roles: str):
    """Dependency: the caller is authenticated and holds one of `roles` (else 403)."""

    def check(principal: Principal = Depends(authenticated)) -> Principal:
        if principal.role not in roles:
            raise HTTPException(403, f"role {principal.role} may not do this")
        return principal

    return check
