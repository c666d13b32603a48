"""Web helpers: only same-site redirects after sign-in, GOV.UK-style field errors, readable codes."""
import pytest
from pydantic import ValidationError

from onward import web
from services.la_tracker.wire import ContactIn


@pytest.mark.parametrize("target,expected", [
    ("/cases?status=neet", "/cases?status=neet"), ("/cases/1", "/cases/1"), (None, "/"), ("", "/"),
    ("https://evil.example/", "/"), ("//evil.example/x", "/"), ("javascript:alert(1)", "/"), ("cases", "/"),
    ("/\\evil.example", "/"),
])
def test_sign_in_only_returns_to_a_path_on_this_site(target, expected):
    assert web.safe_next(target) == expected


def test_form_errors_name_each_field_with_an_actionable_message():
    with pytest.raises(ValidationError) as exc:
        ContactIn.model_validate({"note": "x" * 3000})
    errors = web.form_errors(exc.value)
    assert errors["method"] == "Select how you contacted them"
    assert errors["outcome"] == "Select the outcome"
    assert "2000" in errors["note"]


def test_codes_and_statuses_read_as_words():
    assert web.activity_label("310") == "310 – Apprenticeship"
    assert web.activity_label(None) == "Not recorded"
    assert web.words("referred_to_ncs") == "Referred to NCS"
    assert web.words("neet") == "NEET"


def test_the_pages_content_security_policy_allows_only_the_govuk_body_script():
    import base64
    import hashlib
    digest = base64.b64encode(hashlib.sha256(web.BODY_SCRIPT.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in web.CSP and "unsafe-inline" not in web.CSP


def test_a_token_signed_with_the_previous_jwt_secret_is_accepted_during_rotation():
    from fastapi import HTTPException
    from fastapi.security import HTTPAuthorizationCredentials

    from onward.auth import authenticated, issue_token
    from onward.settings import Settings

    class App:
        class state:
            service = "la_tracker"
            settings = Settings(ONWARD_JWT_SECRET="new-secret-" * 4, ONWARD_JWT_SECRET_PREVIOUS="old-secret-" * 4)

    class Req:
        app = App

    def creds(secret):
        return HTTPAuthorizationCredentials(scheme="Bearer", credentials=issue_token(secret, role="admin"))
    assert authenticated(Req, creds("new-secret-" * 4)).role == "admin"
    assert authenticated(Req, creds("old-secret-" * 4)).role == "admin"
    with pytest.raises(HTTPException) as exc:
        authenticated(Req, creds("some-other-secret-" * 3))
    assert exc.value.status_code == 401
    App.state.settings = Settings(ONWARD_JWT_SECRET="new-secret-" * 4)
    with pytest.raises(HTTPException):
        authenticated(Req, creds("old-secret-" * 4))
