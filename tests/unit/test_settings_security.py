"""Security settings and tokens: production fails closed, claims are type-checked, tokens carry an
audience, an issuer and a capped lifetime, and rate limits count by window (issue 19, items 1, 2, 4, 5)."""
from __future__ import annotations

import time

import jwt
import pytest
from fastapi import HTTPException
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ValidationError

from onward.auth import InvalidToken, authenticated, decode_token, issue_token, principal_from_claims
from onward.settings import DEV_JWT_SECRET, DEV_PERSON_KEY_SECRET, Settings

STRONG = "k" * 32
PRODUCTION = {"ONWARD_ENV": "production", "ONWARD_JWT_SECRET": "j" * 40, "ONWARD_PERSON_KEY_SECRET": "p" * 40,
              "ONWARD_DEV_SIGN_IN": "false"}


def test_production_settings_with_strong_secrets_are_accepted():
    assert Settings(**PRODUCTION).env == "production"


@pytest.mark.parametrize("name, value", [
    ("ONWARD_JWT_SECRET", "x"), ("ONWARD_PERSON_KEY_SECRET", "y"), ("ONWARD_JWT_SECRET_PREVIOUS", "short-old-key"),
    ("ONWARD_JWT_SECRET_PREVIOUS", DEV_JWT_SECRET), ("ONWARD_JWT_SECRET", DEV_PERSON_KEY_SECRET),
    ("ONWARD_PERSON_KEY_SECRET", DEV_JWT_SECRET),
])
def test_production_refuses_short_or_development_secrets_without_quoting_them(name, value):
    with pytest.raises(ValidationError) as exc:
        Settings(**{**PRODUCTION, name: value})
    text = str(exc.value)
    assert name in text
    assert f"'{value}'" not in text and f"input_value={value}" not in text and (len(value) < 8 or value not in text)


def test_production_refuses_cookies_without_secure():
    with pytest.raises(ValidationError, match="ONWARD_COOKIE_SECURE"):
        Settings(**PRODUCTION, ONWARD_COOKIE_SECURE="false")


def test_no_refusal_quotes_the_value_given():
    secret = "a-secret-of-31-bytes-abcdefghij"
    with pytest.raises(ValidationError) as exc:
        Settings(**{**PRODUCTION, "ONWARD_JWT_SECRET": secret})
    assert "abcdefghij" not in str(exc.value) and "ghij" not in repr(exc.value)


def test_a_process_without_an_explicit_environment_serves_on_loopback_only(monkeypatch):
    from onward.processes import serve

    monkeypatch.delenv("ONWARD_ENV", raising=False)
    implicit = Settings()
    for host in ("0.0.0.0", "::", "192.168.1.10"):
        with pytest.raises(ValueError, match="ONWARD_ENV"):
            serve("la_tracker", "api", implicit, port=1, host=host)
    for host in ("127.0.0.1", "::1", "localhost"):
        implicit.check_bind(host)
    Settings(ONWARD_ENV="development").check_bind("0.0.0.0")  # an explicit choice


def test_a_token_whose_scope_claim_is_a_list_is_an_invalid_token_not_a_crash():
    for claims in ({"sub": "x", "role": "la_staff", "la": ["831"]},
                   {"sub": "x", "role": "ncs_adviser", "ncs_area": ["East Midlands"]},
                   {"sub": "x", "role": "school", "laestab": 8314001},
                   {"sub": "x", "role": ["admin"]}, {"sub": ["x"], "role": "admin"}):
        with pytest.raises(InvalidToken):
            principal_from_claims(claims)


class _Request:
    """What `authenticated` reads of a request: the app's settings and its service name."""

    def __init__(self, service: str = "la_tracker", **settings) -> None:
        class state:
            pass
        state.settings, state.service = Settings(**settings), service

        class app:
            pass
        app.state = state
        self.app = app


def _bearer(token: str) -> HTTPAuthorizationCredentials:
    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)


def test_api_tokens_name_their_issuer_and_audience_and_each_service_checks_its_own():
    token = issue_token(STRONG, role="admin")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "onward" and "onward:ncs_referral" in claims["aud"]
    only_la = issue_token(STRONG, role="admin", audience="onward:la_tracker")
    assert decode_token(STRONG, only_la, audience="onward:la_tracker").role == "admin"
    with pytest.raises(InvalidToken, match="(?i)audience"):
        decode_token(STRONG, only_la, audience="onward:ncs_referral")
    assert authenticated(_Request("la_tracker", ONWARD_JWT_SECRET=STRONG), _bearer(only_la)).role == "admin"
    with pytest.raises(HTTPException) as exc:
        authenticated(_Request("ncs_referral", ONWARD_JWT_SECRET=STRONG), _bearer(only_la))
    assert exc.value.status_code == 401


def test_tokens_without_issuer_or_audience_or_from_another_issuer_are_refused():
    now = int(time.time())
    base = {"sub": "x", "role": "admin", "iat": now, "exp": now + 60}
    for claims in (base, {**base, "aud": "onward:la_tracker"}, {**base, "iss": "onward"},
                   {**base, "iss": "elsewhere", "aud": "onward:la_tracker"}):
        with pytest.raises(HTTPException) as exc:
            authenticated(_Request(ONWARD_JWT_SECRET=STRONG), _bearer(jwt.encode(claims, STRONG, algorithm="HS256")))
        assert exc.value.status_code == 401


def test_a_token_living_longer_than_the_cap_is_refused():
    century = issue_token(STRONG, role="admin", ttl_seconds=100 * 365 * 86400)
    with pytest.raises(HTTPException) as exc:
        authenticated(_Request(ONWARD_JWT_SECRET=STRONG), _bearer(century))
    assert exc.value.status_code == 401 and "lifetime" in exc.value.detail
    day = issue_token(STRONG, role="admin", ttl_seconds=86400)
    with pytest.raises(HTTPException):
        authenticated(_Request(ONWARD_JWT_SECRET=STRONG), _bearer(day))
    assert authenticated(_Request(ONWARD_JWT_SECRET=STRONG, ONWARD_TOKEN_MAX_TTL_SECONDS="90000"), _bearer(day))


def test_the_cli_refuses_to_mint_a_token_beyond_the_cap():
    from typer.testing import CliRunner

    from onward.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["token", "--role", "admin", "--ttl", str(10**9)]).exit_code != 0
    ok = runner.invoke(app, ["token", "--role", "la_staff", "--la", "831"])
    assert ok.exit_code == 0
    assert decode_token(Settings().jwt_secret.get_secret_value(), ok.stdout.strip(),
                        audience="onward:la_tracker").la == "831"


def test_a_rate_limit_allows_its_figure_per_minute_then_says_when_to_retry():
    from onward.limits import RateLimit

    now = [1000.0]
    limit = RateLimit(3, clock=lambda: now[0])
    for _ in range(3):
        limit.check("client-a", "attempts")
    with pytest.raises(HTTPException) as exc:
        limit.check("client-a", "attempts")
    assert exc.value.status_code == 429 and exc.value.headers["Retry-After"] == "60"
    limit.check("client-b", "attempts")  # another key has its own window
    now[0] += 45
    assert limit.retry_after("client-a") == 15
    now[0] += 15
    limit.check("client-a", "attempts")  # a new window
    assert RateLimit(0).retry_after("anyone") is None  # 0: no limit
