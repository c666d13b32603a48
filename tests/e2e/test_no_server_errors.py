"""No input, however malformed, gives a 5xx (hypothesis against the running services)."""
import uuid
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.e2e.leavers import leaver

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=15)
LEAVER_FIELDS = list(leaver())
mutated_leaver = st.builds(lambda field, value: {**leaver(), field: value}, st.sampled_from(LEAVER_FIELDS), json_values)
any_body = json_values | mutated_leaver
RUNS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def client(urls, tokens):
    with httpx.Client(timeout=30) as c:
        yield c


def _ok(r: httpx.Response) -> None:
    assert r.status_code < 500, f"{r.request.method} {r.request.url} -> {r.status_code}: {r.text[:300]}"


@RUNS
@given(body=any_body)
def test_school_exit_json_endpoints_never_5xx(client, urls, tokens, body):
    school = tokens("school", laestab="8314001")
    _ok(client.post(f"{urls['school_exit']}/v1/leavers", json=body, headers=school))
    _ok(client.post(f"{urls['school_exit']}/v1/leavers/batch", json={"leavers": [body]}, headers=school))
    _ok(client.post(f"{urls['school_exit']}/v1/leavers/batch", json=body, headers=school))
    _ok(client.put(f"{urls['school_exit']}/v1/leavers/{uuid.uuid4()}/destination", json=body, headers=school))


@RUNS
@given(raw=st.binary(max_size=300), path=st.text(max_size=30))
def test_raw_bytes_and_odd_paths_never_5xx(client, urls, tokens, raw, path):
    school = tokens("school", laestab="8314001")
    headers = {**school, "Content-Type": "application/json"}
    _ok(client.post(f"{urls['school_exit']}/v1/leavers", content=raw, headers=headers))
    _ok(client.post(f"{urls['school_exit']}/v1/leavers/import", files={"file": ("f", raw)}, headers=school))
    _ok(client.get(f"{urls['school_exit']}/v1/leavers/{quote(path, safe='')}", headers=school))


@RUNS
@given(params=st.dictionaries(st.sampled_from(["status", "priority", "person_key", "sort", "page", "page_size",
                                                "min_waiting_hours"]), st.text(max_size=20), max_size=4),
       body=any_body)
def test_la_and_ncs_endpoints_never_5xx(client, urls, tokens, params, body):
    la, adviser = tokens("la_staff", la="831"), tokens("ncs_adviser", ncs_area="East Midlands")
    _ok(client.get(f"{urls['la_tracker']}/v1/cases", params=params, headers=la))
    _ok(client.get(f"{urls['ncs_referral']}/v1/referrals", params=params, headers=adviser))
    rid = uuid.uuid4()
    for step in ("claim", "contacts", "outcome"):
        _ok(client.post(f"{urls['ncs_referral']}/v1/referrals/{rid}/{step}", json=body, headers=adviser))


def test_huge_bodies_and_strings_are_refused_cleanly(client, urls, tokens):
    school = tokens("school", laestab="8314001")
    r = client.post(f"{urls['school_exit']}/v1/leavers", json={**leaver(), "given_name": "x" * 1_000_000},
                    headers=school)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "given_name"
    ten_mb = b'{"leavers": [' + b",".join([b'{"a": "' + b"x" * 1000 + b'"}'] * 10_000) + b"]}"
    r = client.post(f"{urls['school_exit']}/v1/leavers/batch", content=ten_mb,
                    headers={**school, "Content-Type": "application/json"})
    assert r.status_code == 413
    r = client.post(f"{urls['school_exit']}/v1/leavers/import", files={"file": ("big.csv", b"x" * 21_000_000)},
                    headers=school)
    assert r.status_code == 413
