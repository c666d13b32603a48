"""la_tracker use cases on events. Each runs inside the consumer's transaction; events go via the outbox."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from uuid import UUID, uuid4

import asyncpg

from onward import erasure, outbox
from onward.postcodes import directory
from onward.la_data import la_of_laestab, local_authorities
from schemas import nccis
from schemas.events import (CaseStatusChanged, Consent, DestinationReported, LeaverRegistered, PersonErased,
                            PersonErasureRequested,
                            ReferralOutcomeRecorded, ReferralRequested, ReferralWithdrawn, YoungPersonRequest)
from schemas.identifiers import postcode_district
from services.la_tracker import currency, domain, matching, outreach, store, store_you
from services.la_tracker.domain import Decision, ReferralStatus, YoungPerson

PRODUCER = "la_tracker"
ACTIVE_REFERRAL = domain.ACTIVE_REFERRAL  # the statuses la_tracker writes: domain.ReferralStatus



@dataclass(frozen=True)
class Cause:
    """What caused a change when it is not an event: a staff action or a scheduled job."""

    event_type: str
    event_id: UUID = field(default_factory=uuid4)
    correlation_id: UUID = field(default_factory=uuid4)


def _meta(cause, person_key: str) -> dict:
    return {"producer": PRODUCER, "correlation_id": cause.correlation_id, "causation_id": cause.event_id,
            "person_key": person_key}


def young_person(facts: dict, activity_code: str | None, activity_status: str | None) -> YoungPerson:
    return YoungPerson(
        nc_year=facts["nc_year"], date_of_birth=date.fromisoformat(facts["date_of_birth"]),
        leaving_date=date.fromisoformat(facts["leaving_date"]), activity_code=activity_code,
        activity_status=activity_status, ehcp=facts["ehcp"], characteristics=frozenset(facts["characteristics"]),
        consent_to_ncs=facts["consent_to_ncs"], objects_to_sharing=facts["objects_to_sharing"],
    )


def responsible_la(home_postcode: str, school_laestab: str) -> tuple[str, str | None]:
    """LA of residence from the postcode; else the school's LA, flagged with why (docs/domain-rules.md 5.1)."""
    found = directory().resolve(home_postcode)
    return (found.la, None) if found.la else (la_of_laestab(school_laestab), f"postcode_{found.reason}")


def _reported(ev: LeaverRegistered) -> tuple[str | None, str | None, dict, dict]:
    """What a report says: activity code and status, routing facts, personal details."""
    code = ev.destination.activity_code if ev.destination else None
    state = ev.destination.status if ev.destination else None
    facts = {"nc_year": ev.nc_year, "date_of_birth": ev.date_of_birth.isoformat(),
             "leaving_date": ev.leaving_date.isoformat(), "ehcp": ev.send.ehcp, "sen_support": ev.send.sen_support,
             "characteristics": list(ev.characteristics), "consent_to_ncs": ev.consent.share_with_ncs,
             "objects_to_sharing": ev.consent.objects_to_sharing, "consent_source": ev.consent.source,
             "consent_recorded_at": ev.occurred_at.isoformat()}
    details = ev.model_dump(mode="json", include={"upn", "uln", "given_name", "family_name", "date_of_birth",
                                                  "home_postcode", "address_lines", "email", "phone",
                                                  "school_laestab", "leaver_id", "leaving_date", "gender",
                                                  "ethnicity"})
    return code, state, facts, details


async def on_leaver_registered(conn: asyncpg.Connection, ev: LeaverRegistered, *, today: date) -> None:
    """Load who this could be, decide by rule 5.8 (domain.match_identity), then save: a report held back
    changes nothing; otherwise the person is recorded (protection never lowered) and routed again."""
    if await erasure.erased_since(conn, ev.person_key, ev.occurred_at):
        return  # an older report replayed after the young person's data was erased
    la, la_review = responsible_la(ev.home_postcode, ev.school_laestab)
    report = matching.reported_identity(ev, la)
    held, others = await matching.load(conn, report)
    match = domain.match_identity(report, held, others)
    code, state, facts, details = _reported(ev)
    if match.conflict:
        await matching.hold_back(conn, ev, match, details)
        return
    pkey = match.person_key
    prior = await store.get_young_person(conn, pkey, for_update=True)
    if prior is not None:
        same_school = prior["details"].get("school_laestab") == ev.school_laestab
        facts = domain.protected_facts(prior["facts"], facts, same_school)
    ident = domain.identity(ev.given_name, ev.family_name, ev.date_of_birth, ev.home_postcode) | {"gender": report.gender}
    person = await store.upsert_young_person(
        conn, person_key=pkey, leaver_id=ev.leaver_id, responsible_la=la, la_source="school" if la_review else "postcode",
        details=details, facts=facts, upn=ev.upn, uln=ev.uln, match_key=ident["match_key"],
        identity=ident,
        activity_code=code, activity_status=state, activity_ascertained=today if code else None)
    await matching.record(conn, ev, match)
    if prior is not None and prior["responsible_la"] != la:
        await _transfer(conn, ev, pkey, to_la=la)
    await reroute(conn, ev, pkey, la, young_person(facts, code, state), today, la_review=la_review, person=person)
    if match.review or prior is not None:  # after routing, so that the person's new case hears of it too
        await close_cross_la_reviews(conn, pkey)


async def on_destination_reported(conn: asyncpg.Connection, ev: DestinationReported, *, today: date) -> None:
    if await erasure.erased_since(conn, ev.person_key, ev.occurred_at):
        return
    pkey = await matching.canonical(conn, ev.person_key)
    if pkey is None:
        raise LookupError("destination reported for a young person this LA tracker has never seen")
    if await store.report_held_back(conn, pkey, ev.leaver_id):
        return  # its report disagreed with who this young person is: staff decide first (5.8)
    d = ev.destination
    await record_activity(conn, ev, pkey, d.activity_code, d.status, today=today)


async def record_activity(conn, cause, pkey: str, code: str, status: str, *, today: date, start=None,
                          review=None) -> None:
    """A new activity from any party: recorded, then the person is routed again (rule 5.6)."""
    row = await store.get_young_person(conn, pkey, for_update=True)
    await store.set_activity(conn, pkey, code, status, today, start, review)
    la = row["responsible_la"]
    await reroute(conn, cause, pkey, la, replace(young_person(row["facts"], code, status), activity_start=start), today)


async def apply_decision(conn: asyncpg.Connection, cause, pkey: str, la: str, decision: Decision, *,
                         today: date, la_review: str | None = None, person=None, timeline: bool = True,
                         officer=None) -> None:
    """Bring the person's case in line with a routing decision: open, update, refer, schedule or close it.

    `person` is the young person's row when the caller has it fresh (saves a read). `timeline=False`:
    the caller writes one timeline entry for the whole change (e.g. consent that refers)."""
    case = await store.case_of_person(conn, pkey, la)
    if not decision.open_case:
        if case is not None and case["status"] in domain.OPEN_STATUSES:
            row = await store.get_young_person(conn, pkey)
            await transition(conn, cause, case, domain.CLOSED, decision.reason, activity_code=row["activity_code"])
            await withdraw_referral(conn, cause, case, decision.reason)
        await _schedule_lapse(conn, pkey, today)
        return
    if case is None or case["status"] not in domain.OPEN_STATUSES:
        case, person = await _open_case(conn, cause, pkey, la, decision, existing=case, la_review=la_review,
                                        person=person)
        await outreach.invite(conn, case, today)  # issue 17: a message with a link to the young person
    elif case["referral_status"] not in ACTIVE_REFERRAL and (case["status"], case["reason"]) != (decision.status,
                                                                                               decision.reason):
        await transition(conn, cause, case, decision.status, decision.reason, due_on=decision.due_on,
                         timeline=timeline)
        case = await store.get_case(conn, case["case_id"], for_update=True)  # the referral carries the new reason
    if decision.due_on:
        await store.schedule(conn, "confirmation_due", pkey, case["case_id"], decision.due_on)
    if decision.refer and case["referral_status"] not in ACTIVE_REFERRAL:
        if decision.refer_on is not None and decision.refer_on <= today:
            await request_referral(conn, cause, case["case_id"], actor="routing", case=case, person=person,
                                   timeline=timeline, officer=officer)
        else:
            await store.update_case(conn, case["case_id"], referral_due_on=decision.refer_on)
            await store.schedule(conn, "refer", pkey, case["case_id"], decision.refer_on)


async def decide(conn: asyncpg.Connection, leaver: YoungPerson, la: str, today: date) -> Decision:
    """What the LA does with this young person today under its routing policy (domain.route's rule)."""
    return domain.route(leaver, await store.policy_for(conn, la), today)


async def reroute(conn: asyncpg.Connection, cause, pkey: str, la: str, leaver: YoungPerson, today: date, *,
                  adjust: Callable[[Decision], Decision] | None = None, **options) -> Decision:
    """Decide again and apply the decision to the person's case in `la`. `adjust` changes the decision
    first (a young person's request for help refers at once); `options` go to apply_decision (e.g.
    `person`, the young person's row when the caller has it fresh)."""
    decision = await decide(conn, leaver, la, today)
    if adjust is not None:
        decision = adjust(decision)
    await apply_decision(conn, cause, pkey, la, decision, today=today, **options)
    return decision


async def _schedule_lapse(conn, pkey: str, today: date) -> None:
    row = await store.get_young_person(conn, pkey)
    if row["activity_code"] and row["activity_status"] == "confirmed" and nccis.is_eet(row["activity_code"]):
        lapse = currency.lapse_of(row["activity_code"], verified=row["activity_ascertained"] or today,
                                  start=row["activity_start"], review=row["activity_review"])
        await store.schedule(conn, "currency_lapse", pkey, None, lapse)


async def _open_case(conn, cause, pkey: str, la: str, decision: Decision, existing, la_review, person) -> tuple:
    person = person or await store.get_young_person(conn, pkey)
    yp = young_person(person["facts"], person["activity_code"], person["activity_status"])
    fields = dict(status=decision.status, reason=decision.reason, priority=domain.priority(yp),
                  activity_code=person["activity_code"], due_on=decision.due_on, leaver_id=person["leaver_id"],
                  la_review=la_review)
    if existing is None:
        case_id, kind = uuid4(), "case_opened"
        await store.insert_case(conn, case_id=case_id, person_key=pkey, responsible_la=la, **fields)
    else:  # a closed or transferred case reopened by a new report
        case_id, kind = existing["case_id"], "case_reopened"
        await store.update_case(conn, case_id, referral_status=None, referral_id=None, **fields)
    await store.add_timeline(conn, case_id, kind, "routing", opened_detail(cause, decision, la_review))
    await outbox.add(conn, opened_event(cause, pkey, case_id, person, la, decision))
    return await store.get_case(conn, case_id), person


def opened_detail(cause, decision: Decision, la_review: str | None) -> dict:
    return {"status": decision.status, "reason": decision.reason, "event_type": cause.event_type,
            "la_review": la_review}


def opened_event(cause, pkey: str, case_id: UUID, person, la: str, decision: Decision) -> CaseStatusChanged:
    return CaseStatusChanged(**_meta(cause, pkey), case_id=case_id, leaver_id=person["leaver_id"], responsible_la=la,
                             status=decision.status, reason=decision.reason, activity_code=person["activity_code"])


async def transition(conn, cause, case, status: str, reason: str, *, actor: str = "routing", timeline: bool = True,
                     **changes) -> None:
    await store.update_case(conn, case["case_id"], status=status, reason=reason, **changes)
    if timeline:
        await store.add_timeline(conn, case["case_id"], "status_changed", actor,
                                 {"from": case["status"], "to": status, "reason": reason,
                                  "event_type": cause.event_type})
    await outbox.add(conn, CaseStatusChanged(
        **_meta(cause, case["person_key"]), case_id=case["case_id"], leaver_id=case["leaver_id"],
        responsible_la=case["responsible_la"], status=status, reason=reason,
        activity_code=changes.get("activity_code", case["activity_code"])))


async def _transfer(conn, cause, pkey: str, to_la: str) -> None:
    """ESA 2008 s.13: the young person now lives in another LA; the old LA's case says where they went."""
    for case in await store.open_cases_of(conn, pkey):
        if case["responsible_la"] != to_la:
            await withdraw_referral(conn, cause, case, "transferred")
            await transition(conn, cause, case, domain.TRANSFERRED, "moved_to_another_la")
            await store.add_timeline(conn, case["case_id"], "transferred", "routing", {"to_la": to_la})


async def close_cross_la_reviews(conn, pkey: str) -> None:
    """A review belongs to the LA holding both people (5.8). Once they are in different LAs none does:
    it closes, and both people's open cases say why (each LA's staff still see their own person)."""
    for review in await store.cross_la_reviews(conn, pkey):
        await store.set_review(conn, review["review_id"], "closed_cross_la", "routing")
        for key in (review["person_key"], review["candidate_key"]):
            for case in await store.open_cases_of(conn, key):
                await store.add_timeline(conn, case["case_id"], "review_closed", "routing", {
                    "review_id": str(review["review_id"]), "reason": "people_in_different_las"})


async def request_referral(conn: asyncpg.Connection, cause, case_id: UUID, *, actor: str, case=None,
                           person=None, timeline: bool = True, officer=None) -> UUID:
    """Hand the young person to the NCS area of the responsible LA's region, with the handoff fields only.

    `case` (locked) and `person` may be passed by a caller that already holds them; `officer` is the
    member of staff (a Principal) the adviser should contact, else the case's assigned worker."""
    case = case or await store.get_case(conn, case_id, for_update=True)
    person = person or await store.get_young_person(conn, case["person_key"])
    referral_id = uuid4()
    la = local_authorities()[case["responsible_la"]]
    policy = await store.policy_for(conn, case["responsible_la"])
    asked = await store_you.latest_help(conn, case["person_key"])  # issue 17: their words and preferences
    await outbox.add(conn, referral_event(cause, case_id, case, person, referral_id, asked, policy=policy,
                                          officer=officer))
    await store.update_case(conn, case_id, referral_id=referral_id, referral_status=ReferralStatus.REQUESTED,
                            referral_due_on=None, returned_at=None)
    if case["status"] != domain.REFERRED_TO_NCS:  # a case opened by routing may already say so
        await transition(conn, cause, case, domain.REFERRED_TO_NCS, case["reason"], actor=actor, timeline=timeline)
    if timeline:
        await store.add_timeline(conn, case_id, "referral_requested", actor,
                                 {"referral_id": str(referral_id), "ncs_area": la.region})
    return referral_id


def _handoff_words(case, person, policy, officer) -> dict:
    """What the LA learned, in words: the reason, the young person's wishes and needs, the school, the
    LA's notes (only when the young person agreed to share them) and the officer to contact."""
    h = case.get("handoff") or {}
    d = person["details"]
    return {"reason_text": domain.reason_text(case["reason"]), "wants": h.get("wants"),
            "best_time": h.get("best_time"), "best_channel": h.get("best_channel"),
            "access_needs": h.get("access_needs"), "school_laestab": d.get("school_laestab"),
            "school_name": d.get("school_name"),
            "la_contact_notes": h.get("contact_notes") if h.get("share_notes") else None,
            "la_officer_name": officer.label if officer else case.get("assigned_name"),
            "la_officer_contact": h.get("officer_contact"),
            "return_after_attempts": policy.contact_attempts if policy else None,
            "return_after_days": policy.contact_min_days if policy else None}


def referral_event(cause, case_id: UUID, case, person, referral_id: UUID, asked=None, *, policy=None,
                   officer=None) -> ReferralRequested:
    """The handoff: to the NCS area of the responsible LA's region, with the handoff fields only."""
    d, f = person["details"], person["facts"]
    la = local_authorities()[case["responsible_la"]]
    return ReferralRequested(**_handoff_words(case, person, policy, officer),
        **_meta(cause, case["person_key"]), referral_id=referral_id, case_id=case_id, responsible_la=la.dfe_code,
        ncs_area=la.region, reason=case["reason"], priority=case["priority"], given_name=d["given_name"],
        family_name=d["family_name"], date_of_birth=d["date_of_birth"], email=d.get("email"), phone=d.get("phone"),
        postcode_district=postcode_district(d["home_postcode"]), send_ehcp=f["ehcp"], sen_support=f["sen_support"],
        consent=Consent(share_with_ncs=f["consent_to_ncs"], objects_to_sharing=f["objects_to_sharing"],
                        source=f.get("consent_source"), recorded_at=f.get("consent_recorded_at")),
        young_person_request=asked and YoungPersonRequest(**asked["answer"], asked_at=asked["at"]))


async def withdraw_referral(conn, cause, case, reason: str) -> None:
    if case["referral_status"] not in ACTIVE_REFERRAL:
        return
    await store.update_case(conn, case["case_id"], referral_status=ReferralStatus.WITHDRAWN)
    await store.add_timeline(conn, case["case_id"], "referral_withdrawn", "routing",
                             {"referral_id": str(case["referral_id"]), "reason": reason})
    await outbox.add(conn, ReferralWithdrawn(**_meta(cause, case["person_key"]), referral_id=case["referral_id"],
                                             case_id=case["case_id"], reason=reason))


async def on_referral_outcome(conn: asyncpg.Connection, ev: ReferralOutcomeRecorded, *, today: date) -> None:
    """The adviser's outcome on the LA's timeline (with their note, provider and start date). Could not
    contact: the LA's own recorded activity is kept, 820 is recorded beside it, and the case is flagged."""
    case = await store.get_case(conn, ev.case_id, for_update=True)
    if case is None or case["referral_id"] != ev.referral_id:
        return  # an outcome for a referral this case no longer holds (superseded): nothing to change
    code = ev.activity_code
    status, reason = domain.outcome_status(code)
    person = await store.get_young_person(conn, case["person_key"])
    kept = person["activity_code"] if ev.outcome == "could_not_contact" else None
    if kept and not nccis.is_not_known(kept) and person["activity_status"] == "confirmed":
        status = domain.NEET if nccis.is_neet(kept) else status
    else:
        kept = None
        await store.set_activity(conn, case["person_key"], code, "confirmed", today, ev.start_date)
    await store.update_case(conn, case["case_id"], ncs_outcome_code=code,
                            referral_status=(ReferralStatus.CLOSED if status == domain.CLOSED
                                             else ReferralStatus.RETURNED_TO_LA),
                            returned_at=ev.occurred_at if ev.outcome == "could_not_contact" else None)
    await store.add_timeline(conn, case["case_id"], "ncs_outcome", ev.adviser_name or "National Careers Service", {
        "referral_id": str(ev.referral_id), "outcome": ev.outcome, "activity_code": code, "note": ev.note,
        "provider": ev.provider, "start_date": ev.start_date and ev.start_date.isoformat(),
        "kept_activity": kept})
    await transition(conn, ev, case, status, reason, actor="ncs", activity_code=kept or code)


async def on_person_erasure_requested(conn: asyncpg.Connection, ev: PersonErasureRequested, *, today: date) -> None:
    """Erase the young person under every key they are known by (aliases, merged records): their
    record, cases, timelines, jobs and reviews, and the outbox payloads; then tell ncs_referral."""
    keys = await matching.all_keys(conn, ev.person_key)
    await store_you.erase(conn, keys)
    await store.erase_people(conn, keys)
    await erasure.forget(conn, keys, ev.erasure_id)
    await outbox.add(conn, PersonErased(**_meta(ev, ev.person_key), erasure_id=ev.erasure_id, person_keys=keys))
