"""ncs_referral: data minimisation, area scoping, the claim race, return to LA, audit, service levels."""
import asyncio
import uuid

import asyncpg

from services.ncs_referral.domain import HANDOFF_WORDS
from tests.e2e.conftest import eventually
from tests.e2e.leavers import leaver

EAST_MIDLANDS = dict(ncs_area="East Midlands")


async def _refer(http, urls, tokens, **over) -> tuple[dict, dict]:
    body = leaver(**over)
    r = await http.post(f"{urls['school_exit']}/v1/leavers", json=body, headers=tokens("school", laestab=body["school_laestab"]))
    assert r.status_code == 202, r.text
    pkey = r.json()["person_key"]

    async def probe():
        r = await http.get(f"{urls['ncs_referral']}/v1/referrals", params={"person_key": pkey}, headers=tokens("admin"))
        return r.json()["items"]
    return body | {"leaver_id": r.json()["leaver_id"], "person_key": pkey}, (await eventually(probe))[0]


async def _db_text(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        tables = [r["tablename"] for r in await conn.fetch("select tablename from pg_tables where schemaname = 'public'")]
        return "\n".join([str(await conn.fetch(f'select * from "{t}"')) for t in tables])
    finally:
        await conn.close()


async def test_fields_the_la_holds_never_reach_the_ncs_database(http, urls, tokens, databases):
    body, ref = await _refer(http, urls, tokens, address_lines=["77 Unusual Crescent"], home_postcode="DE22 3QW",
                             uln="1234567899")
    text = await _db_text(databases["ncs_referral"])
    # The school (its LAESTAB) is part of the handoff since issue 16: the adviser asked for it.
    for held_by_la_only in (body["upn"], body["uln"], "77 Unusual Crescent", "DE22 3QW"):
        assert held_by_la_only not in text, f"{held_by_la_only} reached ncs_referral"
    detail = (await http.get(f"{urls['ncs_referral']}/v1/referrals/{ref['referral_id']}",
                             headers=tokens("ncs_adviser", **EAST_MIDLANDS))).json()
    assert detail["handoff"]["postcode_district"] == "DE22"
    assert set(detail["handoff"]) == {"given_name", "family_name", "date_of_birth", "email", "phone",
                                      "postcode_district", "send_ehcp", "sen_support", *HANDOFF_WORDS}
    assert detail["consent"]["share_with_ncs"] is True and detail["consent"]["source"] == "school_leaver_report"


async def test_referral_goes_to_the_area_of_the_responsible_las_region(http, urls, tokens):
    _, ref = await _refer(http, urls, tokens, school_laestab="2024001", home_postcode="NW1 2DB")  # Camden
    assert ref["ncs_area"] == "London"
    assert (await http.get(f"{urls['ncs_referral']}/v1/referrals/{ref['referral_id']}",
                           headers=tokens("ncs_adviser", **EAST_MIDLANDS))).status_code == 404
    r = await http.get(f"{urls['ncs_referral']}/v1/referrals/{ref['referral_id']}",
                       headers=tokens("ncs_adviser", ncs_area="London"))
    assert r.status_code == 200


async def test_two_advisers_claiming_at_once_exactly_one_wins(http, urls, tokens):
    for _ in range(5):
        _, ref = await _refer(http, urls, tokens)
        url = f"{urls['ncs_referral']}/v1/referrals/{ref['referral_id']}/claim"
        a, b = await asyncio.gather(
            http.post(url, headers=tokens("ncs_adviser", sub="adviser-a", **EAST_MIDLANDS)),
            http.post(url, headers=tokens("ncs_adviser", sub="adviser-b", **EAST_MIDLANDS)))
        assert sorted([a.status_code, b.status_code]) == [200, 409]
        winner = a if a.status_code == 200 else b
        assert winner.json()["claimed_by"] in ("adviser-a", "adviser-b")


async def test_unanswered_attempts_on_different_days_or_channels_return_the_young_person_after_confirmation(
        http, urls, tokens, databases):
    body, ref = await _refer(http, urls, tokens)
    adviser = tokens("ncs_adviser", sub="adviser-c", name="Cara Adviser", **EAST_MIDLANDS)
    base = f"{urls['ncs_referral']}/v1/referrals/{ref['referral_id']}"
    no_answer = {"method": "phone", "outcome": "no_answer"}
    assert (await http.post(f"{base}/contacts", json=no_answer, headers=adviser)).status_code == 409  # claim first
    await http.post(f"{base}/claim", headers=adviser)
    for _ in range(3):  # three calls in one afternoon are one attempt
        r = await http.post(f"{base}/contacts", json=no_answer, headers=adviser)
        assert r.status_code == 201, r.text
    assert r.json()["status"] == "claimed"  # "Trying to contact" on the pages, never "in contact"
    ncs = await asyncpg.connect(databases["ncs_referral"])
    try:
        await ncs.execute("update referral_timeline set at = at - interval '8 days' where referral_id = $1",
                          uuid.UUID(ref["referral_id"]))  # those calls were 8 days ago
        assert (await http.post(f"{base}/contacts", json={"method": "text", "outcome": "no_answer"},
                                headers=adviser)).status_code == 201
        # The third counted attempt over 8 days would return them: it asks for confirmation first.
        r = await http.post(f"{base}/contacts", json={"method": "email", "outcome": "no_answer"}, headers=adviser)
        assert r.status_code == 409 and r.json()["detail"][0]["field"] == "confirm_return"
        assert "attempt 3" in r.json()["detail"][0]["message"]
        r = await http.post(f"{base}/contacts", headers=adviser,
                            json={"method": "email", "outcome": "no_answer", "confirm_return": True})
        assert r.status_code == 201 and r.json()["status"] == "returned_to_la"
        # Undone within the day: the referral is the adviser's again; then returned for good.
        r = await http.post(f"{base}/undo-return", headers=adviser)
        assert r.status_code == 200 and r.json()["status"] == "claimed"
        r = await http.post(f"{base}/contacts", headers=adviser,
                            json={"method": "letter", "outcome": "no_answer", "confirm_return": True})
        assert r.json()["status"] == "returned_to_la"
        await ncs.execute("update referrals set returned_at = now() - interval '25 hours' where referral_id = $1",
                          uuid.UUID(ref["referral_id"]))  # the undo day has passed: the sweep tells the LA
    finally:
        await ncs.close()
    la = tokens("la_staff", la="831")

    async def case_back_with_la():
        items = (await http.get(f"{urls['la_tracker']}/v1/cases", params={"person_key": body["person_key"]},
                                headers=la)).json()["items"]
        return items[0] if items and items[0]["status"] == "not_known" else None
    case = await eventually(case_back_with_la)
    assert (case["activity_code"], case["reason"], case["referral_status"]) == ("820", "ncs_could_not_contact",
                                                                                 "returned_to_la")
    assert case["returned_at"] is not None
    assert (await http.post(f"{base}/undo-return", headers=adviser)).status_code == 409  # the LA was told

    async def school_sees_with_la():
        b = (await http.get(f"{urls['school_exit']}/v1/leavers/{body['leaver_id']}",
                            headers=tokens("school", laestab="8314001"))).json()
        return b if b["onward_status"] == "with_la" and b["timeline"][-1]["activity_code"] == "820" else None
    await eventually(school_sees_with_la)


async def test_claim_left_without_outcome_is_swept_back_to_the_la(http, urls, tokens, databases):
    _, ref = await _refer(http, urls, tokens)
    adviser = tokens("ncs_adviser", sub="adviser-d", **EAST_MIDLANDS)
    await http.post(f"{urls['ncs_referral']}/v1/referrals/{ref['referral_id']}/claim", headers=adviser)
    conn = await asyncpg.connect(databases["ncs_referral"])
    try:  # as if the claim were 15 days old (the limit is 14)
        await conn.execute("update referrals set claimed_at = now() - interval '15 days' where referral_id = $1",
                           uuid.UUID(ref["referral_id"]))
    finally:
        await conn.close()

    async def returned():
        b = (await http.get(f"{urls['ncs_referral']}/v1/referrals/{ref['referral_id']}", headers=adviser)).json()
        return b if b["status"] == "returned_to_la" else None
    b = await eventually(returned, timeout=20)
    assert b["outcome_code"] == "820" and b["timeline"][-1]["actor"] == "sweep"


async def test_every_read_of_a_referral_is_audited(http, urls, tokens, databases):
    _, ref = await _refer(http, urls, tokens)
    adviser = tokens("ncs_adviser", sub="adviser-audit", **EAST_MIDLANDS)
    await http.get(f"{urls['ncs_referral']}/v1/referrals/{ref['referral_id']}", headers=adviser)
    conn = await asyncpg.connect(databases["ncs_referral"])
    try:
        rows = await conn.fetch("select actor_sub, actor_role, action, fields from audit_log where object_id = $1",
                                ref["referral_id"])
    finally:
        await conn.close()
    assert [(r["actor_sub"], r["actor_role"], r["action"]) for r in rows] == [("adviser-audit", "ncs_adviser", "read")]
    assert {"given_name", "date_of_birth", "email", "phone"} <= set(rows[0]["fields"])


async def test_queue_age_shows_unclaimed_referrals_per_area(http, urls, tokens):
    await _refer(http, urls, tokens)
    em = (await http.get(f"{urls['ncs_referral']}/v1/queue-age", headers=tokens("ncs_adviser", **EAST_MIDLANDS))).json()
    assert set(em["areas"]) == {"East Midlands"} and em["areas"]["East Midlands"]["under_1h"] >= 1
    metrics = (await http.get(f"{urls['ncs_referral']}/metrics")).text
    assert 'onward_ncs_unclaimed_referrals{band="under_1h",ncs_area="East Midlands"}' in metrics
