"""la_tracker use cases. Each runs inside the consumer's transaction; events go through the outbox."""
from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import asyncpg

from onward import outbox
from onward.la_data import la_of_laestab, local_authorities
from schemas.envelope import Envelope
from schemas.events import (CaseStatusChanged, Consent, DestinationReported, LeaverRegistered,
                            ReferralOutcomeRecorded, ReferralRequested, ReferralWithdrawn)
from schemas.identifiers import postcode_district
from services.la_tracker import domain, store
from services.la_tracker.domain import Decision, YoungPerson

PRODUCER = "la_tracker"
ACTIVE_REFERRAL = frozenset({"requested", "claimed", "in_contact"})


def _facts(ev: LeaverRegistered) -> dict:
    return {
        "nc_year": ev.nc_year, "date_of_birth": ev.date_of_birth.isoformat(),
        "leaving_date": ev.leaving_date.isoformat(), "ehcp": ev.send.ehcp, "sen_support": ev.send.sen_support,
        "characteristics": list(ev.characteristics), "consent_to_ncs": ev.consent.share_with_ncs,
        "objects_to_sharing": ev.consent.objects_to_sharing, "consent_source": ev.consent.source,
        "consent_recorded_at": ev.occurred_at.isoformat(),
    }


def _details(ev: LeaverRegistered) -> dict:
    return ev.model_dump(mode="json", include={
        "upn", "uln", "given_name", "family_name", "date_of_birth", "home_postcode", "address_lines", "email",
        "phone", "school_laestab", "leaving_date", "leaver_id"})


def young_person(facts: dict, activity_code: str | None, activity_status: str | None) -> YoungPerson:
    return YoungPerson(
        nc_year=facts["nc_year"], date_of_birth=date.fromisoformat(facts["date_of_birth"]),
        leaving_date=date.fromisoformat(facts["leaving_date"]), activity_code=activity_code,
        activity_status=activity_status, ehcp=facts["ehcp"], characteristics=frozenset(facts["characteristics"]),
        consent_to_ncs=facts["consent_to_ncs"], objects_to_sharing=facts["objects_to_sharing"],
    )


def _meta(cause: Envelope) -> dict:
    return {"producer": PRODUCER, "correlation_id": cause.correlation_id, "causation_id": cause.event_id,
            "person_key": cause.person_key}


async def on_leaver_registered(conn: asyncpg.Connection, ev: LeaverRegistered, *, today: date) -> None:
    # Responsible LA from the school's LAESTAB for now; postcode resolution is the LA tracker issue's.
    la = la_of_laestab(ev.school_laestab)
    code = ev.destination.activity_code if ev.destination else None
    state = ev.destination.status if ev.destination else None
    facts = _facts(ev)
    await store.upsert_young_person(conn, person_key=ev.person_key, leaver_id=ev.leaver_id, responsible_la=la,
                                    details=_details(ev), facts=facts, activity_code=code, activity_status=state)
    person = young_person(facts, code, state)
    decision = domain.route(person, await store.policy_for(conn, la), today)
    await apply_decision(conn, ev, la, ev.leaver_id, person, decision, today=today)


async def on_destination_reported(conn: asyncpg.Connection, ev: DestinationReported, *, today: date) -> None:
    row = await store.get_young_person(conn, ev.person_key, for_update=True)
    if row is None:
        raise LookupError("destination reported for a young person this LA tracker has never seen")
    d = ev.destination
    await store.set_activity(conn, ev.person_key, d.activity_code, d.status)
    person = young_person(row["facts"], d.activity_code, d.status)
    la = row["responsible_la"]
    decision = domain.route(person, await store.policy_for(conn, la), today)
    await apply_decision(conn, ev, la, row["leaver_id"], person, decision, today=today)


async def apply_decision(conn: asyncpg.Connection, cause: Envelope, la: str, leaver_id: UUID | None,
                         person: YoungPerson, decision: Decision, *, today: date) -> None:
    """Bring the person's case in line with a routing decision: open, update, refer or close it."""
    case = await store.case_of_person(conn, cause.person_key, la)
    if not decision.open_case:
        if case is not None and case["status"] in domain.OPEN_STATUSES:
            await _transition(conn, cause, case, domain.CLOSED, decision.reason, activity_code=person.activity_code)
            await _withdraw_referral(conn, cause, case, decision.reason)
        return
    if case is None or case["status"] not in domain.OPEN_STATUSES:
        case = await _open_case(conn, cause, la, leaver_id, person, decision, existing=case)
    elif case["referral_status"] not in ACTIVE_REFERRAL and (case["status"], case["reason"]) != (decision.status, decision.reason):
        await _transition(conn, cause, case, decision.status, decision.reason, activity_code=person.activity_code,
                          due_on=decision.due_on)
    if decision.refer and case["referral_status"] not in ACTIVE_REFERRAL:
        if decision.refer_on is not None and decision.refer_on <= today:
            await request_referral(conn, cause, case["case_id"], actor="routing")
        else:
            await store.update_case(conn, case["case_id"], referral_due_on=decision.refer_on)


async def _open_case(conn, cause: Envelope, la: str, leaver_id: UUID | None, person: YoungPerson,
                     decision: Decision, existing) -> asyncpg.Record:
    fields = dict(status=decision.status, reason=decision.reason, priority=domain.priority(person),
                  activity_code=person.activity_code, due_on=decision.due_on, leaver_id=leaver_id)
    if existing is None:
        case_id = uuid4()
        await store.insert_case(conn, case_id=case_id, person_key=cause.person_key, responsible_la=la, **fields)
        kind = "case_opened"
    else:  # a closed case reopened by a new report
        case_id = existing["case_id"]
        await store.update_case(conn, case_id, referral_status=None, referral_id=None, **fields)
        kind = "case_reopened"
    await store.add_timeline(conn, case_id, kind, "routing", {"status": decision.status, "reason": decision.reason,
                                                             "event_type": cause.event_type})
    await outbox.add(conn, CaseStatusChanged(**_meta(cause), case_id=case_id, leaver_id=leaver_id, responsible_la=la,
                                             status=decision.status, reason=decision.reason,
                                             activity_code=person.activity_code))
    return await store.get_case(conn, case_id)


async def _transition(conn, cause: Envelope, case, status: str, reason: str, *, actor: str = "routing",
                      **changes) -> None:
    await store.update_case(conn, case["case_id"], status=status, reason=reason, **changes)
    await store.add_timeline(conn, case["case_id"], "status_changed", actor,
                             {"from": case["status"], "to": status, "reason": reason, "event_type": cause.event_type})
    await outbox.add(conn, CaseStatusChanged(
        **_meta(cause), case_id=case["case_id"], leaver_id=case["leaver_id"], responsible_la=case["responsible_la"],
        status=status, reason=reason, activity_code=changes.get("activity_code", case["activity_code"])))


async def request_referral(conn: asyncpg.Connection, cause: Envelope, case_id: UUID, *, actor: str) -> UUID:
    """Hand the young person to the NCS area of the responsible LA's region, with the handoff fields only."""
    case = await store.get_case(conn, case_id, for_update=True)
    person = await store.get_young_person(conn, case["person_key"])
    d, f = person["details"], person["facts"]
    referral_id = uuid4()
    la = local_authorities()[case["responsible_la"]]
    await outbox.add(conn, ReferralRequested(
        **_meta(cause), referral_id=referral_id, case_id=case_id, responsible_la=la.dfe_code, ncs_area=la.region,
        reason=case["reason"], priority=case["priority"], given_name=d["given_name"], family_name=d["family_name"],
        date_of_birth=d["date_of_birth"], email=d.get("email"), phone=d.get("phone"),
        postcode_district=postcode_district(d["home_postcode"]), send_ehcp=f["ehcp"], sen_support=f["sen_support"],
        consent=Consent(share_with_ncs=f["consent_to_ncs"], objects_to_sharing=f["objects_to_sharing"],
                        source=f.get("consent_source"), recorded_at=f.get("consent_recorded_at"))))
    await store.update_case(conn, case_id, referral_id=referral_id, referral_status="requested", referral_due_on=None)
    await _transition(conn, cause, case, domain.REFERRED_TO_NCS, case["reason"], actor=actor)
    await store.add_timeline(conn, case_id, "referral_requested", actor,
                             {"referral_id": str(referral_id), "ncs_area": la.region})
    return referral_id


async def _withdraw_referral(conn, cause: Envelope, case, reason: str) -> None:
    if case["referral_status"] not in ACTIVE_REFERRAL:
        return
    await store.update_case(conn, case["case_id"], referral_status="withdrawn")
    await store.add_timeline(conn, case["case_id"], "referral_withdrawn", "routing",
                             {"referral_id": str(case["referral_id"]), "reason": reason})
    await outbox.add(conn, ReferralWithdrawn(**_meta(cause), referral_id=case["referral_id"], case_id=case["case_id"],
                                             reason=reason))


async def on_referral_outcome(conn: asyncpg.Connection, ev: ReferralOutcomeRecorded, *, today: date) -> None:
    case = await store.get_case(conn, ev.case_id, for_update=True)
    if case is None or case["referral_id"] != ev.referral_id:
        return  # an outcome for a referral this case no longer holds (superseded): nothing to change
    code = ev.activity_code
    status, reason = domain.outcome_status(code)
    await store.set_activity(conn, case["person_key"], code, "confirmed")
    await store.update_case(conn, case["case_id"], referral_status="closed" if status == domain.CLOSED else "returned_to_la")
    await store.add_timeline(conn, case["case_id"], "ncs_outcome", "ncs",
                             {"referral_id": str(ev.referral_id), "outcome": ev.outcome, "activity_code": code})
    await _transition(conn, ev, case, status, reason, actor="ncs", activity_code=code)
