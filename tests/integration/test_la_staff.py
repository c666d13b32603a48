"""What LA staff do to a case (services/la_tracker/staff.py), on a real PostgreSQL, without the processes."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from onward.auth import Principal
from services.la_tracker import activity_rules, reviews, staff, store
from tests import factories as f

OFFICER = Principal(sub="officer-1", role="la_staff", la=f.DERBY)


@pytest.fixture
async def pool(infra):
    async with f.fresh_database(infra, "la_tracker") as pool:
        yield pool


async def _act(pool, action, *args, **kwargs):
    async with pool.acquire() as conn, conn.transaction():
        return await action(conn, *args, **kwargs)


async def test_consent_recorded_by_staff_refers_a_case_that_waited_for_it(pool):
    ev = f.leaver(consent=False)
    case = await f.reported(pool, ev)
    assert (case["status"], case["reason"], case["referral_status"]) == ("not_known", "no_consent", None)
    async with pool.acquire() as conn:
        kinds_before = await f.timeline_kinds(conn, case["case_id"])

    answer = await _act(pool, staff.record_consent, case, OFFICER, True, "phone call with the young person", f.TODAY)

    async with pool.acquire() as conn:
        after = await f.case_of(conn, ev)
        requested = await f.outbox_events(conn, ev.person_key, "ReferralRequested")
        kinds = await f.timeline_kinds(conn, case["case_id"])
        entry = await conn.fetchrow("select actor, detail from case_timeline where case_id = $1"
                                    " and kind = 'consent_recorded'", case["case_id"])
    assert answer == {"referred_to": f.EAST_MIDLANDS}
    assert (after["status"], after["reason"], after["referral_status"]) == ("referred_to_ncs", "no_known_destination",
                                                                            "requested")
    assert len(requested) == 1 and requested[0]["referral_id"] == str(after["referral_id"])
    assert requested[0]["consent"]["share_with_ncs"] is True
    assert requested[0]["consent"]["source"] == "phone call with the young person"
    assert requested[0]["ncs_area"] == f.EAST_MIDLANDS
    assert requested[0]["la_officer_name"] == OFFICER.label   # the officer who recorded it is the contact
    # The whole change (consent, new status, referral) is one timeline entry, not three.
    assert kinds == [*kinds_before, "consent_recorded"]
    assert entry["actor"] == "officer-1"
    assert entry["detail"] == {"share_with_ncs": True, "source": "phone call with the young person",
                               "from": "not_known", "to": "referred_to_ncs", "reason": "no_known_destination",
                               "referral_id": str(after["referral_id"]), "ncs_area": f.EAST_MIDLANDS}


async def test_consent_refused_by_staff_keeps_the_case_with_the_la(pool):
    ev = f.leaver(consent=True)
    await _act(pool, f.set_policy, referral_delay_days=7)   # so the first report does not refer at once
    case = await f.reported(pool, ev)
    assert case["reason"] == "referral_delay"

    await _act(pool, staff.record_consent, case, OFFICER, False, "young person said no", f.TODAY)

    async with pool.acquire() as conn:
        after = await f.case_of(conn, ev)
        requested = await f.outbox_events(conn, ev.person_key, "ReferralRequested")
    assert (after["status"], after["reason"], after["referral_status"]) == ("not_known", "no_consent", None)
    assert requested == []


async def test_manual_referral_refused_when_the_young_person_objects_to_sharing(pool):
    case = await f.reported(pool, f.leaver(consent=True, objects=True))
    assert case["reason"] == "objects_to_sharing"
    with pytest.raises(staff.NotAllowed, match="objects to sharing"):
        await _act(pool, staff.refer, case, OFFICER)


async def test_manual_referral_refused_without_consent_when_the_la_requires_it(pool):
    case = await f.reported(pool, f.leaver(consent=False))
    with pytest.raises(staff.NotAllowed, match="no consent"):
        await _act(pool, staff.refer, case, OFFICER)


async def test_manual_referral_without_consent_is_refused_whatever_the_las_policy_says(pool):
    """No legal basis covers a referral without consent (schemas/consent.py): an old policy row that
    says consent is not required changes nothing."""
    await _act(pool, f.set_policy, consent_required=False, referral_delay_days=30)
    ev = f.leaver(consent=False)
    case = await f.reported(pool, ev)
    assert (case["reason"], case["referral_status"]) == ("no_consent", None)
    with pytest.raises(staff.NotAllowed, match="no consent"):
        await _act(pool, staff.refer, case, OFFICER)
    async with pool.acquire() as conn:
        after = await f.case_of(conn, ev)
        requested = await f.outbox_events(conn, ev.person_key, "ReferralRequested")
    assert (after["referral_id"], after["referral_status"], after["status"]) == (None, None, "not_known")
    assert requested == []


async def test_staff_may_refer_a_young_person_routing_kept_with_the_la(pool):
    """Routing keeps an under-18 leaver with the LA; a member of staff may still hand them over."""
    ev = f.leaver(nc_year=11, born=f.BORN_YEAR_11)
    case = await f.reported(pool, ev)
    assert (case["reason"], case["referral_status"]) == ("under_18", None)

    referral_id = await _act(pool, staff.refer, case, OFFICER)

    async with pool.acquire() as conn:
        requested = await f.outbox_events(conn, ev.person_key, "ReferralRequested")
        actors = await conn.fetch("select actor from case_timeline where case_id = $1 and kind = 'referral_requested'",
                                  case["case_id"])
    assert [e["referral_id"] for e in requested] == [str(referral_id)]
    assert [a["actor"] for a in actors] == ["officer-1"]


async def test_a_second_referral_is_refused_while_one_is_under_way(pool):
    ev = f.leaver()
    case = await f.reported(pool, ev)
    assert case["referral_status"] == "requested"   # routing referred at once
    with pytest.raises(staff.NotAllowed, match="already under way"):
        await _act(pool, staff.refer, case, OFFICER)


async def test_a_closed_case_cannot_be_referred(pool):
    ev = f.leaver(consent=False)
    case = await f.reported(pool, ev)
    await _act(pool, staff.set_activity, case, OFFICER, "310", f.TODAY, None, f.TODAY)
    async with pool.acquire() as conn:
        closed = await f.case_of(conn, ev)
    assert closed["status"] == "closed"
    with pytest.raises(staff.NotAllowed, match="case is closed"):
        await _act(pool, staff.refer, closed, OFFICER)


async def test_an_eet_activity_set_by_staff_closes_the_case_and_withdraws_the_referral(pool):
    ev = f.leaver()
    case = await f.reported(pool, ev)
    assert case["referral_status"] == "requested"
    # Education needs its predicted (course) end date for the NCCIS return: nothing is recorded without it.
    with pytest.raises(activity_rules.Invalid, match="predicted end date") as missing:
        await _act(pool, staff.set_activity, case, OFFICER, "230", f.TODAY, None, f.TODAY)
    assert missing.value.field == "predicted_end_date"
    async with pool.acquire() as conn:
        assert (await f.case_of(conn, ev))["referral_status"] == "requested"
    course_end = f.TODAY + timedelta(days=300)

    await _act(pool, staff.set_activity, case, OFFICER, "230", f.TODAY, None, f.TODAY, predicted_end=course_end)

    async with pool.acquire() as conn:
        after = await f.case_of(conn, ev)
        withdrawn = await f.outbox_events(conn, ev.person_key, "ReferralWithdrawn")
        person = await conn.fetchrow("select activity_code, activity_status, activity_predicted_end from young_people"
                                     " where person_key = $1", ev.person_key)
    assert (after["status"], after["referral_status"]) == ("closed", "withdrawn")
    assert [w["referral_id"] for w in withdrawn] == [str(case["referral_id"])]
    assert (person["activity_code"], person["activity_status"]) == ("230", "confirmed")
    assert person["activity_predicted_end"] == course_end


async def test_a_neet_activity_set_by_staff_keeps_the_case_open_as_neet(pool):
    ev = f.leaver(consent=False)
    case = await f.reported(pool, ev)
    await _act(pool, staff.set_activity, case, OFFICER, "619", f.TODAY, f.TODAY + timedelta(days=28), f.TODAY)
    async with pool.acquire() as conn:
        after = await f.case_of(conn, ev)
        detail = await conn.fetchval("select detail from case_timeline where case_id = $1 and kind = 'activity_set'",
                                     case["case_id"])
    assert (after["status"], after["reason"]) == ("neet", "no_consent")
    assert detail["review_date"] == (f.TODAY + timedelta(days=28)).isoformat()


async def test_a_contact_is_logged_on_the_timeline(pool):
    case = await f.reported(pool, f.leaver(consent=False))
    await _act(pool, staff.record_contact, case, OFFICER, "phone", "no_answer", "rang twice")
    async with pool.acquire() as conn:
        rows = await conn.fetch("select actor, detail from case_timeline where case_id = $1 and kind = 'contact'",
                                case["case_id"])
    assert [(r["actor"], r["detail"]) for r in rows] == [
        ("officer-1", {"method": "phone", "outcome": "no_answer", "note": "rang twice"})]


async def _two_people_under_review(pool):
    # Same names and DOB, another UPN and address: never merged automatically, whatever the matching rules.
    older, newer = f.leaver(consent=False), f.leaver(consent=False, postcode="DE1 3AA")
    await f.reported(pool, older)
    await f.reported(pool, newer)
    review_id = uuid.uuid4()
    async with pool.acquire() as conn:
        await conn.execute("insert into review_queue (review_id, person_key, candidate_key, reason)"
                           " values ($1, $2, $3, 'same_family_name_and_dob') on conflict do nothing",
                           review_id, newer.person_key, older.person_key)
        review_id = await conn.fetchval("select review_id from review_queue where person_key = $1"
                                        " and candidate_key = $2", newer.person_key, older.person_key)
        review = await store.get_review(conn, review_id)   # with both people's cases, as the API passes it
    return older, newer, review


async def _kinds(pool, *evs) -> list[list[str]]:
    async with pool.acquire() as conn:
        return [await f.timeline_kinds(conn, (await f.case_of(conn, ev))["case_id"]) for ev in evs]


async def test_merging_a_duplicate_closes_its_case_and_makes_it_an_alias(pool):
    older, newer, review = await _two_people_under_review(pool)
    assert (review["a_case"], review["b_case"]) != (None, None)

    await _act(pool, reviews.merge, review, OFFICER)

    async with pool.acquire() as conn:
        newer_case, older_case = await f.case_of(conn, newer), await f.case_of(conn, older)
        merged_into = await conn.fetchval("select merged_into from young_people where person_key = $1",
                                          newer.person_key)
        alias = await conn.fetchval("select person_key from person_aliases where alias_key = $1", newer.person_key)
        decided = await conn.fetchrow("select status, decided_by, merge_record from review_queue where review_id = $1",
                                      review["review_id"])
        merged_note = await conn.fetchval("select detail from case_timeline where case_id = $1 and kind = 'merged'",
                                          newer_case["case_id"])
    assert (newer_case["status"], newer_case["reason"]) == ("closed", "merged_duplicate")
    assert older_case["status"] == "not_known"
    assert merged_into == alias == older.person_key
    assert (decided["status"], decided["decided_by"]) == ("merged", "officer-1")
    # What the merge closed is kept, so that a split can reopen it as it was.
    assert decided["merge_record"] == {"closed_cases": [{"case_id": str(newer_case["case_id"]),
                                                         "status": "not_known", "reason": "no_consent"}]}
    assert merged_note["into_case_id"] == str(older_case["case_id"]) and merged_note["into_person"] == older.person_key
    newer_kinds, older_kinds = await _kinds(pool, newer, older)
    assert "merged" in newer_kinds and "merged_in" in older_kinds


async def test_keeping_two_people_apart_changes_neither(pool):
    older, newer, review = await _two_people_under_review(pool)

    await _act(pool, reviews.keep_apart, review, OFFICER)

    async with pool.acquire() as conn:
        statuses = [(await f.case_of(conn, ev))["status"] for ev in (older, newer)]
        merged_into = await conn.fetchval("select merged_into from young_people where person_key = $1",
                                          newer.person_key)
        alias = await conn.fetchval("select person_key from person_aliases where alias_key = $1", newer.person_key)
        decided = await conn.fetchrow("select status, decided_by from review_queue where review_id = $1",
                                      review["review_id"])
    assert statuses == ["not_known", "not_known"]
    assert merged_into is None and alias is None
    assert tuple(decided) == ("kept_apart", "officer-1")
    assert [kinds.count("review_kept_apart") for kinds in await _kinds(pool, older, newer)] == [1, 1]
