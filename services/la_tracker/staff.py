"""What LA staff do to a case: record contacts, set the activity, record consent, refer (reviews: reviews.py)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from uuid import UUID

import asyncpg

from onward.auth import Principal
from services.la_tracker import activity_rules, domain, store, store_nccis
from services.la_tracker.handlers import (ACTIVE_REFERRAL, Cause, apply_decision, record_activity, request_referral,
                                         transition, withdraw_referral, young_person)


class NotAllowed(Exception):
    """The case is not in a state that allows this action (HTTP 409); the message says why."""


async def record_contact(conn: asyncpg.Connection, case, who: Principal, method: str, outcome: str,
                         note: str | None) -> None:
    await store.add_timeline(conn, case["case_id"], "contact", who.sub, {"method": method, "outcome": outcome,
                                                                        "note": note})


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
    await store.add_timeline(conn, case["case_id"], "activity_set", who.sub, {
        "activity_code": code, "start_date": start and start.isoformat(), "review_date": review and review.isoformat(),
        "predicted_end_date": predicted_end and predicted_end.isoformat(), "characteristic": characteristic})
    await record_activity(conn, Cause("StaffSetActivity"), case["person_key"], code, "confirmed", today=today,
                          start=start, review=review)
    await store_nccis.set_predicted_end(conn, case["person_key"], predicted_end)


async def record_consent(conn: asyncpg.Connection, case, who: Principal, share: bool, source: str, today: date) -> None:
    """Consent to share with the NCS, with its source and time; routing then runs again (it may refer)."""
    person = await store.get_young_person(conn, case["person_key"], for_update=True)
    # The young person's own word (through staff) is what may lift a withdrawn consent (5.8).
    facts = {**person["facts"], "consent_to_ncs": share, "consent_withdrawn": not share, "consent_source": source,
             "consent_recorded_at": datetime.now(timezone.utc).isoformat(), "consent_recorded_by": who.sub}
    await store.set_person_fields(conn, case["person_key"], facts=facts)
    await store.add_timeline(conn, case["case_id"], "consent_recorded", who.sub, {"share_with_ncs": share,
                                                                                 "source": source})
    la = case["responsible_la"]
    decision = domain.route(young_person(facts, person["activity_code"], person["activity_status"]),
                            await store.policy_for(conn, la), today)
    await apply_decision(conn, Cause("StaffRecordedConsent"), case["person_key"], la, decision, today=today)


async def refer(conn: asyncpg.Connection, case, who: Principal) -> UUID:
    """Manual referral: an open case, no referral under way, and consent when the LA's policy needs it."""
    if case["status"] not in domain.OPEN_STATUSES:
        raise NotAllowed(f"case is {case['status']}")
    if case["referral_status"] in ACTIVE_REFERRAL:
        raise NotAllowed("a referral is already under way")
    person = await store.get_young_person(conn, case["person_key"])
    policy = await store.policy_for(conn, case["responsible_la"])
    if person["facts"]["objects_to_sharing"]:
        raise NotAllowed("the young person objects to sharing")
    if policy.consent_required and not person["facts"]["consent_to_ncs"]:
        raise NotAllowed("no consent to share with the NCS is recorded")
    return await request_referral(conn, Cause("StaffReferral"), case["case_id"], actor=who.sub)
