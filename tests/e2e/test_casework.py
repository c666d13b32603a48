"""Casework on real Kafka and Postgres (issue 16): one consistent handoff in both directions, and the
LA's routing policy in an LA manager's hands only, audited with before and after values."""
from __future__ import annotations

from uuid import UUID

import asyncpg

from tests.e2e.conftest import eventually
from tests.e2e.leavers import leaver

NO_CONSENT = {"share_with_ncs": False, "objects_to_sharing": False}
EAST_MIDLANDS = {"ncs_area": "East Midlands"}


async def _submit(http, urls, tokens, **over) -> dict:
    body = leaver(**over)
    r = await http.post(f"{urls['school_exit']}/v1/leavers", json=body, headers=tokens("school", laestab="8314001"))
    assert r.status_code == 202, r.text
    return body | r.json()


async def _case(http, urls, tokens, person_key: str, **want) -> dict:
    async def probe():
        items = (await http.get(f"{urls['la_tracker']}/v1/cases", params={"person_key": person_key},
                                headers=tokens("admin"))).json()["items"]
        return items[0] if items and all(items[0][k] == v for k, v in want.items()) else None
    return await eventually(probe)


async def test_consent_that_refers_updates_the_reason_writes_one_entry_and_hands_over_the_words(http, urls, tokens):
    lv = await _submit(http, urls, tokens, consent=NO_CONSENT)
    case = await _case(http, urls, tokens, lv["person_key"])
    assert (case["status"], case["reason"]) == ("not_known", "no_consent")
    officer = tokens("la_staff", la="831", sub="officer-1", name="Priya Shah")
    base = f"{urls['la_tracker']}/v1/cases/{case['case_id']}"
    # What the officer learned goes with the referral; notes only because the young person agreed.
    r = await http.put(f"{base}/handoff", headers=officer, json={
        "wants": "An apprenticeship in plumbing", "best_time": "After 4pm", "best_channel": "text",
        "access_needs": "Prefers written messages", "contact_notes": "Mobile is their own", "share_notes": True})
    assert r.status_code == 200, r.text
    r = await http.post(f"{base}/consent", headers=officer, json={"share_with_ncs": True,
                                                                  "source": "young_person_verbal"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["reason"], r.json()["referred_to"]) == (
        "referred_to_ncs", "no_known_destination", "East Midlands")
    timeline = (await http.get(base, headers=officer)).json()["timeline"]
    consent_entries = [e for e in timeline if e["kind"] == "consent_recorded"]
    assert len(consent_entries) == 1 and consent_entries[0]["actor"] == "Priya Shah"
    assert consent_entries[0]["ncs_area"] == "East Midlands"
    assert not [e for e in timeline if e["kind"] in ("status_changed", "referral_requested")
                and e["at"] >= consent_entries[0]["at"]]

    adviser = tokens("ncs_adviser", sub="adviser-1", name="Sam Okoro", **EAST_MIDLANDS)

    async def referral():
        items = (await http.get(f"{urls['ncs_referral']}/v1/referrals", params={"person_key": lv["person_key"]},
                                headers=adviser)).json()["items"]
        return items[0] if items else None
    ref = await eventually(referral)
    detail = (await http.get(f"{urls['ncs_referral']}/v1/referrals/{ref['referral_id']}", headers=adviser)).json()
    h = detail["handoff"]
    assert h["reason_text"] == "No known destination after leaving school"
    assert (h["wants"], h["best_time"], h["best_channel"], h["la_contact_notes"], h["la_officer_name"],
            h["school_laestab"]) == ("An apprenticeship in plumbing", "After 4pm", "text", "Mobile is their own",
                                     "Priya Shah", "8314001")

    # The adviser's outcome comes back with their note, the provider and the start date.
    ncs = f"{urls['ncs_referral']}/v1/referrals/{ref['referral_id']}"
    assert (await http.post(f"{ncs}/claim", headers=adviser)).status_code == 200
    r = await http.post(f"{ncs}/outcome", headers=adviser, json={
        "activity_code": "310", "note": "Starts with Acme Plumbing", "provider": "Acme Plumbing Ltd",
        "start_date": "2026-09-07"})
    assert r.status_code == 200, r.text
    await _case(http, urls, tokens, lv["person_key"], status="closed")
    outcome = [e for e in (await http.get(base, headers=officer)).json()["timeline"] if e["kind"] == "ncs_outcome"]
    assert (outcome[0]["note"], outcome[0]["provider"], outcome[0]["start_date"], outcome[0]["actor"]) == (
        "Starts with Acme Plumbing", "Acme Plumbing Ltd", "2026-09-07", "Sam Okoro")


async def test_manual_referral_without_consent_is_refused_and_says_why(http, urls, tokens):
    lv = await _submit(http, urls, tokens, consent=NO_CONSENT)
    case = await _case(http, urls, tokens, lv["person_key"])
    r = await http.post(f"{urls['la_tracker']}/v1/cases/{case['case_id']}/referral",
                        headers=tokens("la_staff", la="831"), json={"wants": "A job"})
    assert r.status_code == 409 and "record consent first" in r.json()["detail"]


async def test_only_an_la_manager_changes_the_policy_never_without_consent_and_each_change_is_audited(
        http, urls, tokens, databases):
    url = f"{urls['la_tracker']}/v1/policy"
    staff = tokens("la_staff", la="935")  # Suffolk: no other test uses its policy
    manager = tokens("la_manager", la="935", sub="manager-1", name="Jo Bloggs")
    assert (await http.put(url, json={"referral_delay_days": 3}, headers=staff)).status_code == 403
    r = await http.put(url, json={"consent_required": False}, headers=manager)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "consent_required"
    assert "no legal basis" in r.json()["detail"][0]["message"]
    r = await http.put(url, json={"referral_delay_days": 3, "contact_attempts": 4}, headers=manager)
    assert r.status_code == 200, r.text
    assert (await http.get(url, headers=staff)).json()["referral_delay_days"] == 3  # staff still read it
    conn = await asyncpg.connect(databases["la_tracker"])
    try:
        row = await conn.fetchrow("select changed_by, changed_by_name, before::text, after::text from policy_changes"
                                  " where la = '935' order by id desc limit 1")
    finally:
        await conn.close()
    assert (row["changed_by"], row["changed_by_name"]) == ("manager-1", "Jo Bloggs")
    assert '"referral_delay_days": 0' in row["before"] and '"referral_delay_days": 3' in row["after"]
    assert '"contact_attempts": 4' in row["after"]


async def test_the_work_list_searches_assigns_tracks_tasks_and_exports_safely(http, urls, tokens):
    lv = await _submit(http, urls, tokens, consent=NO_CONSENT, given_name="=Zoltan", family_name="Quixote-Vale")
    case = await _case(http, urls, tokens, lv["person_key"])
    me = tokens("la_staff", la="831", sub="worker-1", name="Wendy Worker")
    other = tokens("la_staff", la="202", sub="worker-2", name="Camden Person")
    cases = f"{urls['la_tracker']}/v1/cases"

    async def found(q, headers=me, **params):
        r = await http.get(cases, params={"q": q, **params}, headers=headers)
        assert r.status_code == 200, r.text
        return [c["case_id"] for c in r.json()["items"]]
    for q in ("quixote", "XOTE-VA", "zoltan quix", lv["upn"], lv["uln"], lv["date_of_birth"]):
        assert case["case_id"] in await found(q), q
    assert case["case_id"] not in await found("quixote", headers=other)  # another LA's case: never listed
    assert case["case_id"] in await found("quixote", status="open")
    r = await http.get(cases, params={"q": "2008-02-30"}, headers=me)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "q"

    # Assign to a named worker (who has signed in), singly and in bulk; "My cases".
    assert (await http.get(f"{urls['la_tracker']}/v1/staff", headers=me)).status_code == 200
    r = await http.put(f"{cases}/{case['case_id']}/assignee", json={"assignee": "worker-2"}, headers=me)
    assert r.status_code == 409  # someone of another LA
    r = await http.post(f"{cases}/assign", json={"case_ids": [case["case_id"]], "assignee": "worker-1"}, headers=me)
    assert r.status_code == 200, r.text
    assert case["case_id"] in await found("quixote", assigned="me")
    got = (await http.get(f"{cases}/{case['case_id']}", headers=me)).json()
    assert got["assigned_name"] == "Wendy Worker"

    # A follow-up task due today is on the "Due today" list until done; a note is on the timeline.
    from datetime import date
    r = await http.post(f"{cases}/{case['case_id']}/tasks", json={"due_on": date.today().isoformat(),
                                                                   "description": "Call about college"}, headers=me)
    assert r.status_code == 201, r.text
    task_id = r.json()["task_id"]
    due = (await http.get(f"{urls['la_tracker']}/v1/tasks", params={"mine": "true"}, headers=me)).json()["items"]
    assert task_id in [t["task_id"] for t in due]
    assert (await http.post(f"{urls['la_tracker']}/v1/tasks/{task_id}/done", headers=other)).status_code == 404
    assert (await http.post(f"{urls['la_tracker']}/v1/tasks/{task_id}/done", headers=me)).status_code == 200
    due = (await http.get(f"{urls['la_tracker']}/v1/tasks", headers=me)).json()["items"]
    assert task_id not in [t["task_id"] for t in due]
    assert (await http.post(f"{cases}/{case['case_id']}/notes", json={"text": "Mum says try Friday"},
                            headers=me)).status_code == 201
    kinds = [(e["kind"], e["actor"]) for e in (await http.get(f"{cases}/{case['case_id']}", headers=me)).json()["timeline"]]
    assert ("note", "Wendy Worker") in kinds and ("assigned", "Wendy Worker") in kinds

    # CSV of the current list: the name a spreadsheet would run as a formula is quoted.
    r = await http.get(f"{urls['la_tracker']}/v1/cases.csv", params={"q": "quixote"}, headers=me)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "'=Zoltan" in r.text and ",=Zoltan" not in r.text


async def test_could_not_contact_keeps_the_las_activity_with_820_beside_it_and_flags_the_case(http, urls, tokens):
    lv = await _submit(http, urls, tokens, consent=NO_CONSENT)
    case = await _case(http, urls, tokens, lv["person_key"])
    officer = tokens("la_staff", la="831")
    base = f"{urls['la_tracker']}/v1/cases/{case['case_id']}"
    r = await http.put(f"{base}/activity", headers=officer, json={"activity_code": "619", "review_date": "2026-12-01"})
    assert r.status_code == 200, r.text
    r = await http.post(f"{base}/consent", headers=officer, json={"share_with_ncs": True, "source": "young_person_verbal"})
    assert r.json()["status"] == "referred_to_ncs"
    adviser = tokens("ncs_adviser", sub="adviser-9", **EAST_MIDLANDS)

    async def referral():
        items = (await http.get(f"{urls['ncs_referral']}/v1/referrals", params={"person_key": lv["person_key"]},
                                headers=adviser)).json()["items"]
        return items[0] if items else None
    ref = await eventually(referral)
    ncs = f"{urls['ncs_referral']}/v1/referrals/{ref['referral_id']}"
    await http.post(f"{ncs}/claim", headers=adviser)
    assert (await http.post(f"{ncs}/outcome", headers=adviser, json={"activity_code": "820"})).status_code == 200
    back = await _case(http, urls, tokens, lv["person_key"], referral_status="returned_to_la")
    assert (back["activity_code"], back["ncs_outcome_code"], back["status"]) == ("619", "820", "neet")
    assert back["returned_at"] is not None
    first = (await http.get(f"{urls['la_tracker']}/v1/cases", params={"sort": "worklist", "status": "open"},
                            headers=officer)).json()["items"][0]
    assert first["returned_at"] is not None  # returned cases come first in the work list


async def test_erasure_also_erases_the_cases_follow_up_tasks(http, urls, tokens, databases):
    lv = await _submit(http, urls, tokens, consent=NO_CONSENT)
    case = await _case(http, urls, tokens, lv["person_key"])
    r = await http.post(f"{urls['la_tracker']}/v1/cases/{case['case_id']}/tasks", headers=tokens("la_staff", la="831"),
                        json={"due_on": "2027-01-04", "description": "Ring back"})
    assert r.status_code == 201
    from services.la_tracker import store
    conn = await asyncpg.connect(databases["la_tracker"])
    try:
        async with conn.transaction():
            await store.erase_people(conn, [lv["person_key"]])  # fails on the tasks' foreign key without them
        assert await conn.fetchval("select count(*) from case_tasks where case_id = $1",
                                   UUID(case["case_id"])) == 0
    finally:
        await conn.close()


async def test_a_managers_policy_change_and_reads_are_recorded_as_la_manager(http, urls, tokens, databases):
    manager = tokens("la_manager", la="936", sub="manager-audit-1", name="Mo Manager")  # Surrey: no other test
    r = await http.put(f"{urls['la_tracker']}/v1/policy", json={"confirmation_due_days": 30}, headers=manager)
    assert r.status_code == 200, r.text
    lv = await _submit(http, urls, tokens, consent=NO_CONSENT)
    case = await _case(http, urls, tokens, lv["person_key"])
    r = await http.get(f"{urls['la_tracker']}/v1/cases/{case['case_id']}", headers=tokens(
        "la_manager", la="831", sub="manager-audit-2", name="Mo Manager"))
    assert r.status_code == 200, r.text
    conn = await asyncpg.connect(databases["la_tracker"])
    try:
        change = await conn.fetchval("select changed_by_role from policy_changes where changed_by = 'manager-audit-1'")
        reads = await conn.fetch("select actor_role from audit_log where actor_sub = 'manager-audit-2'")
    finally:
        await conn.close()
    assert change == "la_manager"
    assert reads and {r["actor_role"] for r in reads} == {"la_manager"}
