"""The young person's own voice (issue 17), end to end over HTTP: the link from the development mailbox,
its single use, expiry, tampering, guessing and rate limits, and the effects of each answer on
la_tracker (case, timeline, queue filter) and ncs_referral (referral with their words, withdrawal).
"""
from __future__ import annotations

import secrets
import uuid
from urllib.parse import urlsplit

import asyncpg
import pytest

from bench.you_probe import CSRF, Phone, help_to_referral
from onward.cohort import cohort
from tests.e2e.conftest import eventually
from tests.e2e.leavers import leaver

NO_CONSENT = {"share_with_ncs": False, "objects_to_sharing": False}
async def young_person_with_link(http, urls, tokens, **over) -> tuple[dict, str, str]:
    """A leaver whose case opens as not known; returns the leaver, its person_key and the link sent."""
    email = f"yp-{uuid.uuid4().hex[:12]}@example.org"
    body = leaver(consent=NO_CONSENT, email=email, **over)
    r = await http.post(f"{urls['school_exit']}/v1/leavers", json=body, headers=tokens("school", laestab="8314001"))
    assert r.status_code == 202, r.text

    async def message():
        box = (await http.get(f"{urls['la_tracker']}/dev/messages.json")).json()
        return [m for m in box if m["to"] == email]
    sent = (await eventually(message, timeout=60, interval=0.2))[0]
    assert sent["channel"] == "email" and sent["link"] in sent["body"]
    return body, r.json()["person_key"], sent["link"]


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def _token(link: str) -> str:
    return urlsplit(link).query.removeprefix("t=")


def _without_csrf(html: str) -> str:
    return CSRF.sub("", html)


async def _case(http, urls, tokens, pkey: str, **params) -> dict | None:
    r = await http.get(f"{urls['la_tracker']}/v1/cases", params={"person_key": pkey, **params},
                       headers=tokens("la_staff", la="831"))
    items = r.json()["items"]
    return items[0] if items else None


async def _full_case(http, urls, tokens, case_id: str) -> dict:
    return (await http.get(f"{urls['la_tracker']}/v1/cases/{case_id}", headers=tokens("la_staff", la="831"))).json()


async def start_visit(http, urls, link: str) -> Phone:
    phone = Phone(http, urls["la_tracker"])
    await phone.open_link(link)
    return phone


async def test_the_link_greets_by_first_name_opens_once_and_a_used_expired_or_guessed_one_looks_the_same(
        http, urls, tokens, databases):
    body, pkey, link = await young_person_with_link(http, urls, tokens)
    phone = Phone(http, urls["la_tracker"])
    page = await phone.get(_path(link))
    assert page.status_code == 200 and f"Hello {body['given_name']}" in page.text
    for not_shown in (body["family_name"], body["date_of_birth"], body["home_postcode"], body["upn"]):
        assert not_shown not in page.text
    for pii in (body["given_name"], body["family_name"], body["email"], body["upn"], body["home_postcode"]):
        assert pii not in link
    assert (await phone.post("/you", {"t": _token(link)})).status_code == 303
    assert (await phone.get("/you/doing")).status_code == 200

    again = Phone(http, urls["la_tracker"])  # the same browser, its visit cookie gone
    again.cookies, again.csrf = {"onward_la_tracker_csrf": phone.cookies["onward_la_tracker_csrf"]}, phone.csrf
    used = await again.get(_path(link))
    assert used.status_code == 404
    assert (await again.post("/you", {"t": _token(link)})).status_code == 404  # single use
    guessed = await again.get(f"/you?t={secrets.token_urlsafe(24)}")
    malformed = await again.get("/you?t=../../etc")
    tampered = await again.get(_path(link)[:-1] + ("A" if link[-1] != "A" else "B"))
    assert {r.status_code for r in (guessed, malformed, tampered)} == {404}
    assert len({_without_csrf(r.text) for r in (used, guessed, malformed, tampered)}) == 1  # no hint which

    # An expired link: the same page again.
    _, pkey2, link2 = await young_person_with_link(http, urls, tokens)
    conn = await asyncpg.connect(databases["la_tracker"])
    try:
        await conn.execute("update you_links set expires_at = now() - interval '1 second' where person_key = $1", pkey2)
    finally:
        await conn.close()
    expired = await again.get(_path(link2))
    assert expired.status_code == 404 and _without_csrf(expired.text) == _without_csrf(guessed.text)


async def test_a_missing_ended_or_tampered_visit_answers_401_and_changes_nothing(http, urls, tokens):
    _, pkey, link = await young_person_with_link(http, urls, tokens)
    phone = await start_visit(http, urls, link)
    visit = phone.cookies["onward_la_tracker_you"]
    head, claims, signature = visit.split(".")
    for cookie in ("", f"{head}.{claims}.{signature[::-1]}", f"{head}.{claims[:-2]}.{signature}"):
        stranger = Phone(http, urls["la_tracker"])
        stranger.cookies = {**phone.cookies, "onward_la_tracker_you": cookie}
        stranger.csrf = phone.csrf
        assert (await stranger.get("/you/doing")).status_code == 401
        r = await stranger.post("/you/doing", {"answer": "looking"})
        assert r.status_code == 401 and "Your visit has ended" in r.text
    case = await _case(http, urls, tokens, pkey)
    assert case["status"] == "not_known"


async def test_too_many_token_lookups_from_one_client_are_refused(http, urls, databases, settings):
    phone = Phone(http, urls["la_tracker"])
    statuses = [(await phone.get(f"/you?t={secrets.token_urlsafe(24)}")).status_code
                for _ in range(settings.you_lookups_per_hour + 1)]
    try:
        assert statuses[-1] == 429 and set(statuses[:-1]) <= {404, 429}
        assert "Too many tries" in (await phone.get("/you?t=x")).text
    finally:  # the other tests come from the same address
        conn = await asyncpg.connect(databases["la_tracker"])
        try:
            await conn.execute("delete from you_attempts")
        finally:
            await conn.close()


async def test_a_self_reported_course_closes_the_case_verified_today(http, urls, tokens):
    body, pkey, link = await young_person_with_link(http, urls, tokens)
    phone = await start_visit(http, urls, link)
    assert (await phone.post("/you/doing", {"answer": "bogus"})).status_code == 422
    assert (await phone.post("/you/doing", {"answer": "studying"})).headers["location"] == "/you/doing/more"
    assert (await phone.get("/you/doing/more")).status_code == 200
    assert (await phone.post("/you/doing/more", {"follow_up": "college"})).headers["location"] == "/you/doing/where"
    bad = await phone.post("/you/doing/where", {"provider_name": "Derby College", "start_date-day": "31",
                                                "start_date-month": "2", "start_date-year": "2026"})
    assert bad.status_code == 422 and "real date" in bad.text
    nul = await phone.post("/you/doing/where", {"provider_name": "Derby\x00College", "start_date-day": "8",
                                                "start_date-month": "9", "start_date-year": "2026"})
    assert nul.status_code == 422 and "special characters" in nul.text and "Derby" not in nul.text
    r = await phone.post("/you/doing/where", {"provider_name": "Derby College", "start_date-day": "8",
                                              "start_date-month": "9", "start_date-year": "2026"})
    assert r.status_code == 303 and r.headers["location"] == "/you/help"

    async def closed():
        case = await _case(http, urls, tokens, pkey)
        return case if case and case["status"] == "closed" else None
    case = await eventually(closed)
    full = await _full_case(http, urls, tokens, case["case_id"])
    assert full["current_activity"]["activity_code"] == "230" and full["current_activity"]["status"] == "confirmed"
    assert full["current_activity"]["start_date"] == "2026-09-08"
    said = [e for e in full["timeline"] if e["kind"] == "self_reported"]
    assert said and said[0]["actor"] == "young_person" and said[0]["provider_name"] == "Derby College"
    assert (await phone.post("/you/help", {"wants_help": "no"})).headers["location"] == "/you/done"
    done = await phone.get("/you/done")
    assert done.status_code == 200 and body["given_name"] in done.text


async def test_asking_for_help_refers_at_once_with_their_words_and_withdrawing_withdraws_it(http, urls, tokens):
    _, pkey, link = await young_person_with_link(http, urls, tokens)
    phone = await start_visit(http, urls, link)
    await phone.post("/you/doing", {"answer": "looking"})
    # A page that does not follow from the answer (a bookmark, the back button) sends them to the one that does.
    assert (await phone.get("/you/doing/where")).headers["location"] == "/you/doing/words"
    nul = await phone.post("/you/doing/words", {"words": "Something\x00with animals"})
    assert nul.status_code == 422 and "special characters" in nul.text
    r = await phone.post("/you/doing/words", {"words": "Something with animals,\tnear Derby"})
    assert r.headers["location"] == "/you/help"
    assert (await phone.post("/you/help", {"wants_help": "yes"})).headers["location"] == "/you/help/contact"
    assert (await phone.post("/you/help/contact", {"contact_by": "text"})).status_code == 422
    r = await phone.post("/you/help/contact", {"contact_by": "text", "contact_time": "evening",
                                               "words": "I am free after 6pm"})
    assert r.headers["location"] == "/you/done"

    async def referral():
        r = await http.get(f"{urls['ncs_referral']}/v1/referrals", params={"person_key": pkey}, headers=tokens("admin"))
        return r.json()["items"]
    ref = (await eventually(referral))[0]
    shown = (await http.get(f"{urls['ncs_referral']}/v1/referrals/{ref['referral_id']}", headers=tokens("admin"))).json()
    assert shown["handoff"]["young_person_request"]["in_their_words"] == "I am free after 6pm"
    assert shown["handoff"]["young_person_request"]["contact_by"] == "text"
    assert shown["consent"]["source"] == "young_person_online" and shown["consent"]["recorded_at"]

    case = await _case(http, urls, tokens, pkey, asked_for_help="true")
    assert case and case["status"] == "referred_to_ncs"
    assert await _case(http, urls, tokens, pkey, asked_for_help="false") is None
    full = await _full_case(http, urls, tokens, case["case_id"])
    kinds = [e["kind"] for e in full["timeline"]]
    assert "self_reported" in kinds and "help_requested" in kinds
    assert full["current_activity"]["activity_code"] == "619"

    info = await phone.get("/you/your-information")
    assert "Stop sharing with the National Careers Service" in info.text
    r = await phone.post("/you/your-information/ncs", {})
    assert r.headers["location"] == "/you/your-information?stopped=1"

    async def withdrawn():
        r = await http.get(f"{urls['ncs_referral']}/v1/referrals/{ref['referral_id']}", headers=tokens("admin"))
        return r.json()["status"] == "withdrawn"
    await eventually(withdrawn)

    async def back_with_la():
        c = await _case(http, urls, tokens, pkey)
        return c if c["status"] == "neet" and c["referral_status"] == "withdrawn" else None
    case = await eventually(back_with_la)
    full = await _full_case(http, urls, tokens, case["case_id"])
    assert full["consent"]["share_with_ncs"] is False and full["consent"]["source"] == "young_person_online"


@pytest.mark.parametrize("over", [{"send": {"ehcp": True, "sen_support": False}},
                                  {"characteristics": ["160"]}], ids=["ehc_plan", "care_leaver"])
async def test_help_asked_by_a_young_person_the_la_keeps_stays_with_the_la_who_see_it(http, urls, tokens, over):
    intended = {"activity_code": "230", "status": "intended"}
    _, pkey, link = await young_person_with_link(http, urls, tokens, destination=intended, **over)
    assert (await _case(http, urls, tokens, pkey))["status"] == "awaiting_confirmation"
    phone = await start_visit(http, urls, link)
    await phone.post("/you/doing", {"answer": "not_able"})
    await phone.post("/you/doing/words", {"words": ""})
    await phone.post("/you/help", {"wants_help": "yes"})
    await phone.post("/you/help/contact", {"contact_by": "phone", "contact_time": "any"})

    async def asked():
        return await _case(http, urls, tokens, pkey, asked_for_help="true")
    case = await eventually(asked)
    assert case["status"] in ("send_caseload", "leaving_care") and case["referral_status"] is None
    r = await http.get(f"{urls['ncs_referral']}/v1/referrals", params={"person_key": pkey}, headers=tokens("admin"))
    assert r.json()["items"] == []


async def test_the_development_mailbox_is_a_page_and_json_newest_first(http, urls, tokens):
    await young_person_with_link(http, urls, tokens)
    box = (await http.get(f"{urls['la_tracker']}/dev/messages.json")).json()
    assert set(box[0]) == {"to", "channel", "body", "link", "sent_at"}
    assert [m["sent_at"] for m in box] == sorted((m["sent_at"] for m in box), reverse=True)
    page = await http.get(f"{urls['la_tracker']}/dev/messages")
    assert page.status_code == 200 and box[0]["link"].replace("&", "&amp;") in page.text


async def test_the_bench_probe_times_help_to_the_ncs_queue(urls, databases, tokens, settings):
    """bench/you_probe.py (run by `make bench`) works: each young person's help reaches the NCS queue."""
    people = cohort(5, seed=17, first_serial=8_000_000)
    timings = await help_to_referral(urls["school_exit"], urls["la_tracker"], databases, tokens("admin"), people,
                                     settings.person_key_secret.get_secret_value(), link_timeout=60)
    assert len(timings) == 5 and all(t > 0 for t in timings)
    print(f"help -> NCS queue (test stack, loaded machine): {[round(t * 1000) for t in timings]} ms")


async def test_erasure_removes_their_answers_links_and_messages(http, urls, tokens, databases):
    from tests.e2e.test_erasure import _all_text

    body, pkey, link = await young_person_with_link(http, urls, tokens)
    phone = await start_visit(http, urls, link)
    words = f"Erase-me-{uuid.uuid4().hex[:8]}"
    await phone.post("/you/doing", {"answer": "something_else"})
    await phone.post("/you/doing/words", {"words": words})

    async def answered():
        return words in await _all_text(databases["la_tracker"])
    await eventually(answered)
    r = await http.post(f"{urls['school_exit']}/v1/erasures", json={"upn": body["upn"], "reason": "subject_request"},
                        headers=tokens("admin"))
    assert r.status_code == 202, r.text

    async def gone():
        text = await _all_text(databases["la_tracker"])
        return not [v for v in (words, body["email"], body["family_name"]) if v in text]
    await eventually(gone, timeout=30)
    assert (await http.get(f"{urls['la_tracker']}{_path(link)}")).status_code == 404
