"""Every read of personal data is audited, endpoint by endpoint (API and pages): who, what, which fields."""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import asyncpg
import httpx
import pytest

from tests.e2e.conftest import eventually, tenant_a_objects
from tests.e2e.leavers import leaver


@pytest.fixture(scope="module")
async def person(urls, tokens):
    return {"period_end": _month_end(date.today()).isoformat(), **await tenant_a_objects(urls, tokens),
            "cohort_key": await _in_nccis_cohort(urls, tokens)}


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


async def _in_nccis_cohort(urls, tokens) -> str:
    """A Year 12 leaver of academic age 16 (in the NCCIS return of this month): the return reads history as
    at its period end, so only someone reported before it and in the statutory cohort on it appears."""
    today = date.today()
    body = leaver(nc_year=12, date_of_birth=date(today.year - 17 + (today.month >= 9), 1, 15).isoformat())
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(f"{urls['school_exit']}/v1/leavers", json=body, headers=tokens("school", laestab="8314001"))
        pkey = r.json()["person_key"]

        async def case():
            return (await http.get(f"{urls['la_tracker']}/v1/cases", params={"person_key": pkey},
                                   headers=tokens("admin"))).json()["items"]
        await eventually(case)
    return pkey


async def _audited(db_url: str, sub: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(db_url)
    try:
        return await conn.fetch("select action, object_type, object_id, fields from audit_log where actor_sub = $1", sub)
    finally:
        await conn.close()


def _sub() -> str:
    return f"auditor-{uuid.uuid4().hex[:8]}"


API_READS = [
    # service, path, role and scope, object type, the object's id key, a field that must be listed
    ("school_exit", "/v1/leavers/{leaver_id}", ("school", {"laestab": "8314001"}), "leaver", "leaver_id", "family_name"),
    ("la_tracker", "/v1/cases/{case_id}", ("la_staff", {"la": "831"}), "case", "case_id", "date_of_birth"),
    ("la_tracker", "/v1/exports/nccis.xml?period_end={period_end}", ("la_staff", {"la": "831"}), "young_person",
     "cohort_key", "upn"),
    ("la_tracker", "/v1/exports/nccis.csv?period_end={period_end}", ("la_staff", {"la": "831"}), "young_person",
     "cohort_key", "upn"),
    ("la_tracker", "/v1/exports/nccis/check?period_end={period_end}", ("la_staff", {"la": "831"}), "young_person",
     "cohort_key", "upn"),
    ("ncs_referral", "/v1/referrals/{referral_id}", ("ncs_adviser", {"ncs_area": "East Midlands"}), "referral",
     "referral_id", "phone"),
]


@pytest.mark.parametrize("service, path, caller, object_type, key, field", API_READS, ids=[a[1] for a in API_READS])
async def test_each_api_read_of_personal_data_is_audited(http, urls, tokens, databases, person, service, path, caller,
                                                         object_type, key, field):
    sub = _sub()
    role, scope = caller
    r = await http.get(urls[service] + path.format(**person), headers=tokens(role, sub=sub, **scope))
    assert r.status_code == 200, r.text[:200]
    rows = await _audited(databases[service], sub)
    mine = [x for x in rows if x["object_type"] == object_type and x["object_id"] == str(person[key])]
    assert mine, f"{path}: no audit row for {object_type} {person[key]} (got {[dict(x) for x in rows][:3]})"
    assert field in mine[0]["fields"]


def _keep_cookies(http: httpx.AsyncClient, response: httpx.Response) -> None:
    # The cookies are Secure; httpx keeps those for https only, so carry them by hand over loopback http.
    for name, value in response.cookies.items():
        http.cookies.set(name, value)


async def _page_session(http: httpx.AsyncClient, base: str, form: dict) -> None:
    page = await http.get(f"{base}/sign-in")
    _keep_cookies(http, page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = await http.post(f"{base}/sign-in", data={**form, "csrf_token": token})
    assert r.status_code == 303, r.text[:300]
    _keep_cookies(http, r)


@pytest.mark.parametrize("service, form, pages, object_type, key", [
    ("school_exit", {"role": "school", "scope": "8314001"}, ["/leavers?q={family_name}", "/leavers/{leaver_id}"],
     "leaver", "leaver_id"),
    ("la_tracker", {"role": "la_staff", "scope": "831"}, ["/cases?q={family_name}", "/cases/{case_id}"], "case",
     "case_id"),
    ("ncs_referral", {"role": "ncs_adviser", "scope": "East Midlands"}, ["/referrals?status=new",
                                                                         "/referrals/{referral_id}"], "referral",
     "referral_id"),
])
async def test_each_page_showing_personal_data_is_audited(urls, databases, person, service, form, pages, object_type,
                                                          key):
    name = f"Auditor {uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(timeout=10, base_url=urls[service]) as http:
        await _page_session(http, urls[service], {**form, "name": name})
        before = await _count_reads(databases[service], object_type, person[key])
        for path in pages:
            r = await http.get(path.format(**person))
            assert r.status_code == 200 and person["family_name"] in r.text, path
            after = await _count_reads(databases[service], object_type, person[key])
            assert after > before, f"{path} showed {object_type} {person[key]} without an audit row"
            before = after


async def _count_reads(db_url: str, object_type: str, object_id) -> int:
    conn = await asyncpg.connect(db_url)
    try:
        return await conn.fetchval("select count(*) from audit_log where object_type = $1 and object_id = $2",
                                   object_type, str(object_id))
    finally:
        await conn.close()
