"""la_tracker use cases on the young person's own answers (events from the /you/ pages).

- A destination: recorded as the young person's report (confirmed, ascertained and verified today).
  An EET answer closes the case and withdraws an open referral (rule 5.6); a NEET answer opens or
  keeps the case; "something else" changes no code. Their words go on the case's timeline.
- A request for help with consent: consent recorded (source young_person_online, with its time), then
  routing runs again and refers at once when the usual rules allow (young_person.help_decision);
  otherwise the case stays with the LA, whose queue shows the request ("asked for help").
- A withdrawal: consent to share with the NCS withdrawn; a live referral is withdrawn.
"""
from __future__ import annotations

from datetime import date

import asyncpg

from schemas.events_young_person import ConsentWithdrawn, DestinationSelfReported, HelpRequested
from services.la_tracker import matching, store, store_you, young_person as yp
from services.la_tracker.handlers import record_activity, reroute, withdraw_referral, young_person

ACTOR = "young_person"


async def _person(conn, ev):
    pkey = await matching.canonical(conn, ev.person_key)
    if pkey is None:
        return None, None
    row = await store.get_young_person(conn, pkey, for_update=True)
    return pkey, row


async def _case_of(conn, ev, row):
    case = await store.get_case(conn, ev.case_id, for_update=True) if ev.case_id else None
    return case if case is not None else await store.case_of_person(conn, row["person_key"], row["responsible_la"])


async def on_destination_self_reported(conn: asyncpg.Connection, ev: DestinationSelfReported, *, today: date) -> None:
    pkey, row = await _person(conn, ev)
    if row is None:
        return  # erased, or never here: nothing to apply
    answer = ev.model_dump(mode="json", include={"answer", "activity_code", "provider_name", "start_date",
                                                 "in_their_words"})
    await store_you.add_answer(conn, ev.event_id, pkey, ev.case_id, "destination", answer)
    await store_you.mark_answered(conn, pkey)
    case = await _case_of(conn, ev, row)
    if case is not None:
        await store.add_timeline(conn, case["case_id"], "self_reported", ACTOR, answer)
    if ev.activity_code is not None:
        await record_activity(conn, ev, pkey, ev.activity_code, "confirmed", today=today, start=ev.start_date)


async def on_help_requested(conn: asyncpg.Connection, ev: HelpRequested, *, today: date) -> None:
    pkey, row = await _person(conn, ev)
    if row is None:
        return
    answer = ev.model_dump(mode="json", include={"share_with_ncs", "contact_by", "contact_time", "in_their_words",
                                                 "consent_recorded_at"})
    await store_you.add_answer(conn, ev.event_id, pkey, ev.case_id, "help", answer)
    await store_you.mark_answered(conn, pkey)
    facts = {**row["facts"], "consent_to_ncs": ev.share_with_ncs, "consent_source": yp.SOURCE,
             "consent_recorded_at": ev.consent_recorded_at.isoformat(), "consent_recorded_by": ACTOR}
    await store.set_person_fields(conn, pkey, facts=facts)
    case = await _case_of(conn, ev, row)
    if case is not None:
        await store.add_timeline(conn, case["case_id"], "help_requested", ACTOR, answer)
    la = row["responsible_la"]
    await reroute(conn, ev, pkey, la, young_person(facts, row["activity_code"], row["activity_status"]), today,
                  adjust=lambda decision: yp.help_decision(decision, today))


async def on_consent_withdrawn(conn: asyncpg.Connection, ev: ConsentWithdrawn, *, today: date) -> None:
    pkey, row = await _person(conn, ev)
    if row is None:
        return
    await store_you.add_answer(conn, ev.event_id, pkey, ev.case_id, "withdrawal",
                               {"recipient": ev.recipient, "withdrawn_at": ev.withdrawn_at.isoformat()})
    facts = {**row["facts"], "consent_to_ncs": False, "consent_source": yp.SOURCE,
             "consent_recorded_at": ev.withdrawn_at.isoformat(), "consent_recorded_by": ACTOR}
    await store.set_person_fields(conn, pkey, facts=facts)
    la = row["responsible_la"]
    case = await _case_of(conn, ev, row)
    if case is not None:
        await store.add_timeline(conn, case["case_id"], "consent_withdrawn", ACTOR, {"recipient": ev.recipient})
        await withdraw_referral(conn, ev, case, "consent_withdrawn")
    await reroute(conn, ev, pkey, la, young_person(facts, row["activity_code"], row["activity_status"]), today)


HANDLERS = ((DestinationSelfReported.TOPIC, on_destination_self_reported), (HelpRequested.TOPIC, on_help_requested),
            (ConsentWithdrawn.TOPIC, on_consent_withdrawn))
