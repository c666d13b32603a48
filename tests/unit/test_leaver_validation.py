"""school_exit's 422s name the bad field. No database is touched: requests fail before the handler."""
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from onward.auth import issue_token
from onward.settings import Settings
from services.school_exit.api import build_app

TODAY = date(2026, 7, 20)
GOOD = {
    "upn": "H801200001001", "uln": "1234567899", "given_name": "Amira", "family_name": "Khan",
    "date_of_birth": "2008-03-14", "home_postcode": "DE1 2AA", "address_lines": ["1 Example Street"],
    "email": "amira@example.org", "phone": "07700900123", "school_laestab": "8314001", "nc_year": 13,
    "leaving_date": "2026-07-17", "destination": {"activity_code": "230", "status": "intended"},
    "send": {"ehcp": False, "sen_support": False}, "characteristics": ["140"],
    "consent": {"share_with_ncs": True, "objects_to_sharing": False},
}


@pytest.fixture(scope="module")
def client():
    settings = Settings()
    app = build_app(settings, clock=lambda: TODAY)
    token = issue_token(settings.jwt_secret.get_secret_value(), role="school", laestab="8314001")
    c = TestClient(app, raise_server_exceptions=False)  # no lifespan: no database
    c.headers["Authorization"] = f"Bearer {token}"
    return c


@pytest.mark.parametrize("change, field", [
    ({"upn": "A801200001001"}, "upn"),
    ({"uln": "1234567890"}, "uln"),
    ({"destination": {"activity_code": "999", "status": "intended"}}, "destination.activity_code"),
    ({"destination": {"activity_code": "230", "status": "maybe"}}, "destination.status"),
    ({"characteristics": ["999"]}, "characteristics"),
    ({"date_of_birth": (TODAY + timedelta(days=1)).isoformat()}, "date_of_birth"),
    ({"date_of_birth": "2017-01-01"}, "date_of_birth"),   # 9 at leaving
    ({"date_of_birth": "1995-01-01"}, "date_of_birth"),   # 31 at leaving
    ({"leaving_date": "2007-01-01"}, "leaving_date"),      # before DOB
    ({"leaving_date": (TODAY + timedelta(days=61)).isoformat()}, "leaving_date"),
    ({"home_postcode": "NOT A POSTCODE"}, "home_postcode"),
    ({"send": {"ehcp": True, "sen_support": True}}, "send"),
    ({"nc_year": 15}, "nc_year"),
    ({"school_laestab": "83140"}, "school_laestab"),
    ({"given_name": "   "}, "given_name"),
    ({"email": "not-an-email"}, "email"),
    ({"unexpected": 1}, "unexpected"),
])
def test_each_bad_field_is_named_in_a_422(client, change, field):
    r = client.post("/v1/leavers", json={**GOOD, **change})
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["detail"]], r.json()


def test_missing_required_fields_are_each_named(client):
    r = client.post("/v1/leavers", json={"upn": "H801200001001"})
    assert r.status_code == 422
    named = {e["field"] for e in r.json()["detail"]}
    assert {"given_name", "family_name", "date_of_birth", "home_postcode", "school_laestab", "nc_year",
            "leaving_date"} <= named


def test_a_school_cannot_submit_for_another_school(client):
    r = client.post("/v1/leavers", json={**GOOD, "school_laestab": "8314002"})
    assert r.status_code == 403


def test_no_token_is_401(client):
    r = client.post("/v1/leavers", json=GOOD, headers={"Authorization": ""})
    assert r.status_code == 401


def test_validation_errors_do_not_echo_personal_data(client):
    r = client.post("/v1/leavers", json={**GOOD, "upn": "A801200001001", "home_postcode": "ZZZZZZZZ"})
    assert "A801200001001" not in r.text and "ZZZZZZZZ" not in r.text
