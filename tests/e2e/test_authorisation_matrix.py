"""Every endpoint x every caller: the answer is 401, 403, 404 or 2xx as the tenancy rules say."""
import base64
import json
import time

import jwt
import pytest

from onward.settings import Settings
from tests.e2e.conftest import tenant_a_objects
from tests.e2e.leavers import leaver


def _b64(doc: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()


def _bad_tokens() -> dict[str, dict]:
    now = int(time.time())
    claims = {"sub": "x", "role": "admin", "iat": now, "exp": now + 600}
    secret = Settings().jwt_secret.get_secret_value()
    return {
        "none": {},
        "expired": {"Authorization": "Bearer " + jwt.encode({**claims, "exp": now - 10}, secret, algorithm="HS256")},
        "wrong_signature": {"Authorization": "Bearer " + jwt.encode(claims, "not-the-secret-" * 3, algorithm="HS256")},
        "alg_none": {"Authorization": "Bearer " + _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(claims) + "."},
    }


@pytest.fixture(scope="module")
async def objects(urls, tokens):
    return await tenant_a_objects(urls, tokens)


ZERO = "00000000-0000-0000-0000-000000000000"
CALLERS = {
    "school_a": ("school", {"laestab": "8314001"}), "school_b": ("school", {"laestab": "2024001"}),
    "la_a": ("la_staff", {"la": "831"}), "la_b": ("la_staff", {"la": "202"}),
    "ncs_a": ("ncs_adviser", {"ncs_area": "East Midlands"}), "ncs_b": ("ncs_adviser", {"ncs_area": "London"}),
    "admin": ("admin", {}),
}
# Reads only: each endpoint, and who may see object A (2xx); the owner's peers get 404; other roles 403.
ENDPOINTS = [
    ("school_exit", "GET", "/v1/leavers/{leaver_id}", {"school_a", "admin"}, {"school_b"}),
    ("la_tracker", "GET", "/v1/cases/{case_id}", {"la_a", "admin"}, {"la_b"}),
    ("la_tracker", "GET", "/v1/cases", {"la_a", "la_b", "admin"}, set()),
    ("la_tracker", "GET", "/v1/reviews", {"la_a", "la_b", "admin"}, set()),
    ("la_tracker", "GET", "/v1/policy", {"la_a", "la_b"}, set()),
    ("la_tracker", "GET", "/v1/you/reminders", {"la_a", "la_b"}, set()),
    ("la_tracker", "GET", "/v1/policy/changes", {"la_a", "la_b"}, set()),
    ("la_tracker", "GET", "/v1/cases.csv", {"la_a", "la_b", "admin"}, set()),
    ("la_tracker", "GET", "/v1/tasks", {"la_a", "la_b", "admin"}, set()),
    ("la_tracker", "GET", "/v1/staff", {"la_a", "la_b", "admin"}, set()),
    ("ncs_referral", "GET", "/v1/referrals/{referral_id}", {"ncs_a", "admin"}, {"ncs_b"}),
    ("ncs_referral", "GET", "/v1/referrals", {"ncs_a", "ncs_b", "admin"}, set()),
    ("ncs_referral", "GET", "/v1/queue-age", {"ncs_a", "ncs_b", "admin"}, set()),
    ("ncs_referral", "GET", "/v1/advisers", {"ncs_a", "ncs_b", "admin"}, set()),
]


@pytest.mark.parametrize("service, method, path, allowed, hidden", ENDPOINTS, ids=[e[2] for e in ENDPOINTS])
async def test_read_endpoints_answer_by_role_and_tenant(http, urls, tokens, objects, service, method, path,
                                                         allowed, hidden):
    url = urls[service] + path.format(**objects)
    for name, (role, scope) in CALLERS.items():
        r = await http.request(method, url, headers=tokens(role, **scope))
        if name in allowed:
            assert r.status_code == 200, (name, r.status_code, r.text[:200])
        elif name in hidden:
            assert r.status_code == 404, (name, r.status_code)
        elif name == "admin":  # admin has no LA of its own for /policy: it must name one
            assert r.status_code == 422, (name, r.status_code)
        else:
            assert r.status_code == 403, (name, r.status_code)
    for name, headers in _bad_tokens().items():
        r = await http.request(method, url, headers=headers)
        assert r.status_code == 401, (name, r.status_code)


async def test_lists_never_show_another_tenants_objects(http, urls, tokens, objects):
    for role, scope, url, key in (
            ("la_staff", {"la": "202"}, f"{urls['la_tracker']}/v1/cases?page_size=200", "case_id"),
            ("ncs_adviser", {"ncs_area": "London"}, f"{urls['ncs_referral']}/v1/referrals?page_size=200", "referral_id")):
        items = (await http.get(url, headers=tokens(role, **scope))).json()["items"]
        assert objects[key] not in {i[key] for i in items}
        assert all(i.get("responsible_la", "202") == "202" for i in items if "responsible_la" in i and role == "la_staff")
        assert all(i["ncs_area"] == "London" for i in items if role == "ncs_adviser")


WRITES = [
    ("school_exit", "PUT", "/v1/leavers/{leaver_id}/destination", {"activity_code": "230", "status": "intended"},
     "school_b", "school_exit"),
    ("la_tracker", "POST", "/v1/cases/{case_id}/contacts", {"method": "phone", "outcome": "no_answer"}, "la_b", None),
    ("la_tracker", "PUT", "/v1/cases/{case_id}/activity", {"activity_code": "619"}, "la_b", None),
    ("la_tracker", "PUT", "/v1/cases/{case_id}/level-of-need", {"level_of_need": 2}, "la_b", None),
    ("la_tracker", "POST", "/v1/cases/{case_id}/consent", {"share_with_ncs": True, "source": "school"}, "la_b", None),
    ("la_tracker", "POST", "/v1/cases/{case_id}/referral", None, "la_b", None),
    ("la_tracker", "PUT", "/v1/cases/{case_id}/handoff", {"wants": "A job"}, "la_b", None),
    ("la_tracker", "PUT", "/v1/cases/{case_id}/assignee", {"assignee": None}, "la_b", None),
    ("la_tracker", "POST", "/v1/cases/{case_id}/tasks", {"due_on": "2027-01-04", "description": "Call"}, "la_b", None),
    ("la_tracker", "POST", "/v1/cases/{case_id}/notes", {"text": "A note"}, "la_b", None),
    ("ncs_referral", "POST", "/v1/referrals/{referral_id}/undo-return", None, "ncs_b", None),
    ("ncs_referral", "POST", "/v1/referrals/{referral_id}/claim", None, "ncs_b", None),
    ("ncs_referral", "POST", "/v1/referrals/{referral_id}/contacts", {"method": "phone", "outcome": "no_answer"}, "ncs_b", None),
    ("ncs_referral", "POST", "/v1/referrals/{referral_id}/outcome", {"activity_code": "330"}, "ncs_b", None),
    ("ncs_referral", "PUT", "/v1/referrals/{referral_id}/assignee", {"assignee": None}, "ncs_b", None),
    ("ncs_referral", "POST", "/v1/referrals/assign", {"referral_ids": ["{referral_id}"], "assignee": None}, "ncs_b",
     None),
]


@pytest.mark.parametrize("service, method, path, body, peer, _", WRITES, ids=[w[2] for w in WRITES])
async def test_writes_to_another_tenants_object_are_404_and_other_roles_403(http, urls, tokens, objects, service,
                                                                            method, path, body, peer, _):
    url = urls[service] + path.format(**objects)
    body = json.loads(json.dumps(body).replace("{referral_id}", objects["referral_id"]))  # ids in a bulk body
    owner_role = CALLERS[peer][0]
    for name, (role, scope) in CALLERS.items():
        if name == peer:
            expected = 404
        elif role == owner_role or name == "admin":
            continue  # the owner's own writes are exercised by the workflow tests; skip changing object A
        else:
            expected = 403
        r = await http.request(method, url, json=body, headers=tokens(role, **scope))
        assert r.status_code == expected, (name, r.status_code, r.text[:200])
    for name, headers in _bad_tokens().items():
        r = await http.request(method, url, json=body, headers=headers)
        assert r.status_code == 401, (name, r.status_code)


# Endpoints whose rule is the role alone (their objects' scoping is tested above or in the workflow
# tests): every other role gets 403, every bad token 401.
ROLE_ONLY = [
    ("school_exit", "POST", "/v1/leavers", leaver(), {"school", "admin"}),
    ("school_exit", "POST", "/v1/leavers/batch", {"leavers": []}, {"school", "admin"}),
    ("school_exit", "POST", "/v1/leavers/import", None, {"school", "admin"}),
    ("school_exit", "POST", "/v1/erasures", {"person_key": "0" * 64, "reason": "recorded_in_error"}, {"admin"}),
    ("la_tracker", "PUT", "/v1/policy", {"referral_delay_days": 0}, {"admin"}),  # la_manager: test_casework
    ("la_tracker", "PUT", "/v1/you/reminders", {"first_reminder_days": 7}, {"admin"}),  # la_manager too
    ("la_tracker", "POST", "/v1/reviews/00000000-0000-0000-0000-000000000000", {"decision": "keep_apart"},
     {"la_staff", "admin"}),
    ("la_tracker", "GET", "/v1/reviews/00000000-0000-0000-0000-000000000000", None, {"la_staff", "admin"}),
    ("la_tracker", "POST", "/v1/reviews/00000000-0000-0000-0000-000000000000/split", None, {"la_staff", "admin"}),
    ("la_tracker", "GET", "/v1/exports/nccis.xml?period_end=2026-10-31", None, {"la_staff", "admin"}),
    ("la_tracker", "GET", "/v1/exports/nccis.csv?period_end=2026-10-31", None, {"la_staff", "admin"}),
    ("la_tracker", "GET", "/v1/exports/nccis/check?period_end=2026-10-31", None, {"la_staff", "admin"}),
    ("la_tracker", "GET", "/v1/nccis/settings", None, {"la_staff", "admin"}),
    ("la_tracker", "PUT", "/v1/nccis/settings", {"level_of_need_default": 2}, {"la_staff", "admin"}),
    ("la_tracker", "POST", "/v1/cases/assign", {"case_ids": [ZERO], "assignee": None}, {"la_staff", "admin"}),
    ("la_tracker", "POST", f"/v1/tasks/{ZERO}/done", None, {"la_staff", "admin"}),
]


@pytest.mark.parametrize("service, method, path, body, roles", ROLE_ONLY, ids=[e[2] for e in ROLE_ONLY])
async def test_role_only_endpoints_refuse_every_other_role(http, urls, tokens, service, method, path, body, roles):
    url = urls[service] + path
    for name, (role, scope) in CALLERS.items():
        if role in roles:
            continue
        r = await http.request(method, url, json=body, headers=tokens(role, **scope))
        assert r.status_code == 403, (name, r.status_code, r.text[:200])
    for name, headers in _bad_tokens().items():
        r = await http.request(method, url, json=body, headers=headers)
        assert r.status_code == 401, (name, r.status_code)


# Endpoints anyone may call: they hold no personal data.
PUBLIC = [("school_exit", "GET", "/v1/leavers/import/template.csv")]


@pytest.mark.parametrize("service, method, path", PUBLIC, ids=[p[2] for p in PUBLIC])
async def test_public_endpoints_answer_without_a_token_and_show_no_personal_data(http, urls, service, method, path):
    for name, headers in _bad_tokens().items():
        r = await http.request(method, urls[service] + path, headers=headers)
        assert r.status_code == 200, (name, r.status_code)
        assert r.text.count("\n") == 1  # the CSV template's header row only


async def test_the_matrix_covers_every_endpoint_of_every_openapi_document(http, urls):
    covered = {(s, m, p.split("?")[0]) for s, m, p, *_ in ENDPOINTS + WRITES + ROLE_ONLY + PUBLIC}
    covered = {(s, m, p.replace(ZERO, "{review_id}") if "/reviews/" in p else p) for s, m, p in covered}
    covered = {(s, m, p.replace(ZERO, "{task_id}") if "/tasks/" in p else p) for s, m, p in covered}
    for service, base in urls.items():
        spec = (await http.get(f"{base}/openapi.json")).json()
        for path, ops in spec["paths"].items():
            for method in ops:
                assert (service, method.upper(), path) in covered, f"{service} {method.upper()} {path} not in the matrix"
