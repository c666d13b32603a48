"""ncs_referral use cases: intake, withdrawal and the adviser's steps."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from uuid import UUID, uuid4

import asyncpg
from prometheus_client import Histogram

from onward import erasure, outbox, telemetry
from onward.consumer import Rejected
from onward.la_data import local_authorities
from onward.words import LONDON, la_name, long_date
from schemas import nccis
from schemas.consent import referral_consent_blocker
from schemas.events import PersonErased, ReferralOutcomeRecorded, ReferralRequested, ReferralWithdrawn
from services.ncs_referral import domain, store

PRODUCER = "ncs_referral"
REFUSALS = {"objects_to_sharing": "the young person objects to sharing: no referral to the NCS",
            "no_consent": "referral has no recorded consent to share with the NCS"}
HANDOFF = Histogram("onward_handoff_latency_seconds",
                    "Request accepted at the edge (school_exit, or an LA action) to the referral written in ncs_referral",
                    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))


async def on_referral_requested(conn: asyncpg.Connection, ev: ReferralRequested) -> None:
    """Store the handoff, routed to the NCS area of the referring LA's region; never without consent."""
    if await erasure.erased_since(conn, ev.person_key, ev.occurred_at):
        return  # replayed after the young person's data was erased
    blocker = referral_consent_blocker(ev.consent.share_with_ncs, ev.consent.objects_to_sharing)
    if blocker:
        raise Rejected(REFUSALS[blocker])
    la = local_authorities().get(ev.responsible_la)
    if la is None:
        raise Rejected(f"referring LA {ev.responsible_la} is not an English LA")
    handoff = ev.model_dump(mode="json", include=set(domain.HANDOFF_FIELDS) | set(domain.HANDOFF_WORDS))
    if ev.young_person_request is not None:  # issue 17: their own words and how to contact them
        handoff["young_person_request"] = ev.young_person_request.model_dump(mode="json")
    consent = ev.consent.model_dump(mode="json", include={"share_with_ncs", "source", "recorded_at"})
    if await store.insert_referral(conn, referral_id=ev.referral_id, case_id=ev.case_id, person_key=ev.person_key,
                                   responsible_la=la.dfe_code, ncs_area=la.region, reason=ev.reason,
                                   priority=ev.priority, handoff=handoff, consent=consent,
                                   return_after_attempts=ev.return_after_attempts or 3,
                                   return_after_days=ev.return_after_days if ev.return_after_days is not None else 7):
        await store.add_timeline(conn, ev.referral_id, "received", "la", {"responsible_la": la.dfe_code,
                                                                           "reason": ev.reason,
                                                                           "trace_id": telemetry.trace_id()})
        accepted = telemetry.accepted_at()
        if accepted is not None:
            HANDOFF.observe(max(0.0, time.time() - accepted))


async def on_referral_withdrawn(conn: asyncpg.Connection, ev: ReferralWithdrawn) -> None:
    row = await store.get_referral(conn, ev.referral_id, for_update=True)
    if row is None or row["status"] not in domain.OPEN:
        return
    await store.update_referral(conn, ev.referral_id, status=domain.WITHDRAWN, status_reason=ev.reason)
    await store.add_timeline(conn, ev.referral_id, "withdrawn", "la", {"reason": ev.reason})


async def claim(conn: asyncpg.Connection, row, adviser: str, adviser_name: str | None = None) -> None:
    domain.check_claim(row["status"], row["claimed_by"], adviser)
    if row["status"] == domain.NEW:
        await store.update_referral(conn, row["referral_id"], status=domain.CLAIMED, claimed_by=adviser,
                                    claimed_at=datetime.now(timezone.utc), claimed_by_name=adviser_name,
                                    assigned_to=adviser, assigned_name=adviser_name or adviser)
        await store.add_timeline(conn, row["referral_id"], "claimed", adviser_name or adviser, {})


async def assign(conn: asyncpg.Connection, row, actor: str, assignee: str | None) -> None:
    """Assign to a named adviser of the referral's area (or nobody), by domain.check_assign's rule.
    A referral being worked passes to the assignee with its claim, so they can record contacts."""
    domain.check_assign(row["status"], assignee)
    name = None
    if assignee is not None:
        name = await store.adviser_name(conn, assignee, row["ncs_area"])
        if name is None:
            raise domain.NotAllowed("assignee is not an adviser of this NCS area who has signed in")
    if row["assigned_to"] == assignee and (row["status"] not in domain.WORKING or row["claimed_by"] == assignee):
        return
    changes = {"assigned_to": assignee, "assigned_name": name}
    if row["status"] in domain.WORKING:
        changes |= {"claimed_by": assignee, "claimed_by_name": name}
    await store.update_referral(conn, row["referral_id"], **changes)
    await store.add_timeline(conn, row["referral_id"], "assigned" if assignee else "unassigned", actor,
                             {"to": name} if name else {})


async def record_contact(conn: asyncpg.Connection, row, adviser: str, method: str, outcome: str, note: str | None,
                         *, correlation_id: UUID, confirm_return: bool = False,
                         adviser_name: str | None = None) -> None:
    """Log a contact attempt. The status says "in contact" only once someone is reached. Unanswered
    attempts count on different days or channels (the LA's numbers, domain.could_not_contact); the
    attempt that would return the young person to the LA needs `confirm_return`, and the return waits
    a day (undoable) before the LA is told."""
    domain.check_working(row["status"], row["claimed_by"], adviser)
    failed = outcome in domain.FAILED_CONTACT
    today = datetime.now(timezone.utc).astimezone(LONDON).date()
    attempts = [*(await store.failed_attempts(conn, row["referral_id"], sorted(domain.FAILED_CONTACT))), (today, method)] if failed else []
    returning = failed and domain.could_not_contact(attempts, row["return_after_attempts"], row["return_after_days"])
    if returning and not confirm_return:
        raise domain.ConfirmReturn(domain.return_warning(
            "the young person", la_name(row["responsible_la"]), len(domain.counted_attempts(attempts)),
            attempts[0][0]))
    status = domain.IN_CONTACT if outcome == "reached" or row["status"] == domain.IN_CONTACT else domain.CLAIMED
    counted = failed and (today, method) not in attempts[:-1]  # the same day and channel again: not another
    await store.update_referral(conn, row["referral_id"], status=status,
                                failed_contacts=row["failed_contacts"] + (1 if counted else 0))
    await store.add_timeline(conn, row["referral_id"], "contact", adviser_name or adviser, {
        "method": method, "outcome": outcome, "note": note, "day": today.isoformat(), "counted": counted})
    if returning:
        await store.update_referral(conn, row["referral_id"], status=domain.RETURNED_TO_LA,
                                    outcome_code=nccis.CANNOT_BE_CONTACTED, returned_at=datetime.now(timezone.utc))
        await store.add_timeline(conn, row["referral_id"], "outcome", adviser_name or adviser, {
            "activity_code": nccis.CANNOT_BE_CONTACTED, "status": domain.RETURNED_TO_LA,
            "note": f"{len(domain.counted_attempts(attempts))} unanswered attempts since {long_date(attempts[0][0])}"})


async def undo_return(conn: asyncpg.Connection, row, adviser: str, adviser_name: str | None = None) -> None:
    """Within a day of a return (before the LA is told), the adviser who made it can take it back."""
    if row["status"] != domain.RETURNED_TO_LA or row["returned_at"] is None or row["return_sent_at"] is not None:
        raise domain.NotAllowed("only a return not yet sent to the LA can be undone")
    if row["claimed_by"] != adviser:
        raise domain.NotAllowed("only the adviser who returned the referral can undo it")
    await store.update_referral(conn, row["referral_id"], status=domain.CLAIMED, returned_at=None, outcome_code=None)
    await store.add_timeline(conn, row["referral_id"], "return_undone", adviser_name or adviser, {})


async def send_due_returns(conn: asyncpg.Connection, limit: int = 100) -> int:
    """Tell the LA about returns older than the undo window (several replicas: SKIP LOCKED)."""
    rows = await store.returns_due(conn, domain.UNDO_WINDOW, limit)
    for row in rows:
        await store.update_referral(conn, row["referral_id"], return_sent_at=datetime.now(timezone.utc))
        await outbox.add(conn, ReferralOutcomeRecorded(
            producer=PRODUCER, correlation_id=uuid4(), person_key=row["person_key"], referral_id=row["referral_id"],
            case_id=row["case_id"], outcome="could_not_contact", activity_code=nccis.CANNOT_BE_CONTACTED,
            note=row["note"], adviser_name=row["claimed_by_name"]))
    return len(rows)


async def record_outcome(conn: asyncpg.Connection, row, adviser: str, activity_code: str, note: str | None,
                         correlation_id: UUID, *, provider: str | None = None, start_date=None,
                         adviser_name: str | None = None) -> str:
    """An activity closes the referral; 820 (cannot be contacted) returns the young person to the LA.
    The adviser's note, the provider and the start date go back to the LA's timeline."""
    domain.check_working(row["status"], row["claimed_by"], adviser)
    return await _close(conn, row, adviser_name or adviser, activity_code, note, correlation_id,
                        provider=provider, start_date=start_date, adviser_name=adviser_name)


async def return_stale_claims(conn: asyncpg.Connection, older_than_days: int, limit: int = 100) -> int:
    """Referrals claimed longer than the limit without an outcome go back to the LA as 'could not contact'.

    Several worker replicas may run this sweep at once: each referral is taken by one of them.
    """
    rows = await store.stale_claims(conn, older_than_days, limit)
    for row in rows:
        await _close(conn, row, "sweep", nccis.CANNOT_BE_CONTACTED, f"no outcome {older_than_days} days after claim",
                     uuid4())
    return len(rows)


async def _close(conn: asyncpg.Connection, row, actor: str, activity_code: str, note: str | None,
                 correlation_id: UUID, *, provider: str | None = None, start_date=None,
                 adviser_name: str | None = None) -> str:
    could_not_contact = activity_code == nccis.CANNOT_BE_CONTACTED
    status = domain.RETURNED_TO_LA if could_not_contact else domain.CLOSED
    await store.update_referral(conn, row["referral_id"], status=status, outcome_code=activity_code)
    await store.add_timeline(conn, row["referral_id"], "outcome", actor,
                             {"activity_code": activity_code, "note": note, "status": status, "provider": provider,
                              "start_date": start_date and start_date.isoformat()})
    await outbox.add(conn, ReferralOutcomeRecorded(
        producer=PRODUCER, correlation_id=correlation_id, person_key=row["person_key"],
        referral_id=row["referral_id"], case_id=row["case_id"],
        outcome="could_not_contact" if could_not_contact else "activity", activity_code=activity_code,
        note=note, provider=provider, start_date=start_date, adviser_name=adviser_name))
    return status


async def on_person_erased(conn: asyncpg.Connection, ev: PersonErased) -> None:
    """The LA erased a young person: delete their referrals (handoff, consent, timeline) under any of their keys."""
    await store.erase_people(conn, ev.person_keys)
    await erasure.forget(conn, ev.person_keys, ev.erasure_id)
