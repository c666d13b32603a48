"""What LA staff do to a case: record contacts, set the activity, record consent, refer (reviews: reviews.py)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from uuid import UUID

import asyncpg

from onward.auth import Principal
from onward.la_data import local_authorities
from services.la_tracker import activity_rules, domain, store, store_nccis
from services.la_tracker.handlers import Cause, record_activity, request_referral, reroute, young_person


class NotAllowed(Exception):
    """The case is not in a state that allows this action (HTTP 409); the message says why."""


async def record_contact(conn: asyncpg.Connection, case, who: Principal, method: str, outcome: str,
                         note: str | None) -> None:
    await store.add_timeline(conn, case["case_id"], "contact", who.label, {"method": method, "outcome": outcome,
                                                                          "note": note})
    await store.update_case(conn, case["case_id"], last_contact_at=datetime.now(timezone.utc))


async def set_activity(conn: asyncpg.Connection, case, who: Principal, code: str, start: date | None,
                       review: date | None, today: date, predicted_end: date | None = None,
                       characteristic: str | None = None) -> None:
    """Staff record an activity with the dates the NCCIS return needs (activity_rules says which)."""
    person = await store.get_young_person(conn, case["person_key"], for_update=True)
    activity_rules.check(code, start=start, review=review, predicted_end=predicted_end,
                         characteristic=characteristic, facts=person["facts"])
    if characteristic and characteristic not in person["facts"]["characteristics"]:
        facts = {**person["facts"], "characteristics": [*person["facts"]["characteristics"], characteristic]}
        await store.set_person_fields(conn, case["person_key"], facts=facts)
    await store.add_timeline(conn, case["case_id"], "activity_set", who.label, {
        "activity_code": code, "start_date": start and start.isoformat(), "review_date": review and review.isoformat(),
        "predicted_end_date": predicted_end and predicted_end.isoformat(), "characteristic": characteristic})
    await record_activity(conn, Cause("StaffSetActivity"), case["person_key"], code, "confirmed", today=today,
                          start=start, review=review)
    await store_nccis.set_predicted_end(conn, case["person_key"], predicted_end)


async def record_consent(conn: asyncpg.Connection, case, who: Principal, share: bool, source: str,
                         today: date) -> dict:
    """Consent to share with the NCS, with its source and time; routing then runs again and may refer.
    The whole change (consent, new status and reason, referral) is one timeline entry."""
    person = await store.get_young_person(conn, case["person_key"], for_update=True)
    # The young person's own word (through staff) is what may lift a withdrawn consent (5.8).
    facts = {**person["facts"], "consent_to_ncs": share, "consent_withdrawn": not share, "consent_source": source,
             "consent_recorded_at": datetime.now(timezone.utc).isoformat(), "consent_recorded_by": who.label}
    await store.set_person_fields(conn, case["person_key"], facts=facts)
    la = case["responsible_la"]
    await reroute(conn, Cause("StaffRecordedConsent"), case["person_key"], la,
                  young_person(facts, person["activity_code"], person["activity_status"]), today,
                  timeline=False, officer=who)
    after = await store.get_case(conn, case["case_id"])
    detail = {"share_with_ncs": share, "source": source}
    if (after["status"], after["reason"]) != (case["status"], case["reason"]):
        detail |= {"from": case["status"], "to": after["status"], "reason": after["reason"]}
    referred = (after["referral_id"] != case["referral_id"]
                and after["referral_status"] == domain.ReferralStatus.REQUESTED)
    area = local_authorities()[la].region
    if referred:
        detail |= {"referral_id": str(after["referral_id"]), "ncs_area": area}
    await store.add_timeline(conn, case["case_id"], "consent_recorded", who.label, detail)
    return {"referred_to": area if referred else None}


BLOCKER_TEXT = {"referral_under_way": "a referral is already under way",
                "objects_to_sharing": "the young person objects to sharing their details",
                "no_consent": "no consent to share with the National Careers Service is recorded: record consent first"}


def blocker_text(blocker: str) -> str:
    return BLOCKER_TEXT.get(blocker) or f"the case is {blocker.removeprefix('case_').replace('_', ' ')}"


async def refer(conn: asyncpg.Connection, case, who: Principal, handoff: dict | None = None) -> UUID:
    """Manual referral, by domain.referral_blocker's rule (the same consent rule routing applies);
    what the officer wrote on the refer page goes with it."""
    person = await store.get_young_person(conn, case["person_key"])
    f = person["facts"]
    blocker = domain.referral_blocker(case["status"], case["referral_status"], f["consent_to_ncs"],
                                      f["objects_to_sharing"])
    if blocker:
        raise NotAllowed(blocker_text(blocker))
    if handoff:
        await set_handoff(conn, case, who, handoff)
        case = await store.get_case(conn, case["case_id"], for_update=True)
    return await request_referral(conn, Cause("StaffReferral"), case["case_id"], actor=who.label, case=case,
                                  person=person, officer=who)


async def set_handoff(conn: asyncpg.Connection, case, who: Principal, handoff: dict) -> None:
    """What the LA learned for the NCS adviser (wishes, best time and channel, needs, notes)."""
    merged = {**(case["handoff"] or {}), **{k: v for k, v in handoff.items() if v is not None},
              "share_notes": bool(handoff.get("share_notes"))}
    await store.update_case(conn, case["case_id"], handoff=merged)
    await store.add_timeline(conn, case["case_id"], "handoff_updated", who.label,
                             {k: v for k, v in handoff.items() if v not in (None, False)})

