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
from schemas import nccis
from schemas.events import PersonErased, ReferralOutcomeRecorded, ReferralRequested, ReferralWithdrawn
from services.ncs_referral import domain, store

PRODUCER = "ncs_referral"
HANDOFF = Histogram("onward_handoff_latency_seconds",
                    "Request accepted at the edge (school_exit, or an LA action) to the referral written in ncs_referral",
                    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))


async def on_referral_requested(conn: asyncpg.Connection, ev: ReferralRequested) -> None:
    """Store the handoff, routed to the NCS area of the referring LA's region; never without consent."""
    if await erasure.erased_since(conn, ev.person_key, ev.occurred_at):
        return  # replayed after the young person's data was erased
    if not ev.consent.share_with_ncs or ev.consent.objects_to_sharing:
        raise Rejected("referral has no recorded consent to share with the NCS")
    la = local_authorities().get(ev.responsible_la)
    if la is None:
        raise Rejected(f"referring LA {ev.responsible_la} is not an English LA")
    handoff = ev.model_dump(mode="json", include=set(domain.HANDOFF_FIELDS))
    if ev.young_person_request is not None:  # issue 17: their own words and how to contact them
        handoff["young_person_request"] = ev.young_person_request.model_dump(mode="json")
    consent = ev.consent.model_dump(mode="json", include={"share_with_ncs", "source", "recorded_at"})
    if await store.insert_referral(conn, referral_id=ev.referral_id, case_id=ev.case_id, person_key=ev.person_key,
                                   responsible_la=la.dfe_code, ncs_area=la.region, reason=ev.reason,
                                   priority=ev.priority, handoff=handoff, consent=consent):
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


async def claim(conn: asyncpg.Connection, row, adviser: str) -> None:
    domain.check_claim(row["status"], row["claimed_by"], adviser)
    if row["status"] == domain.NEW:
        await store.update_referral(conn, row["referral_id"], status=domain.CLAIMED, claimed_by=adviser,
                                    claimed_at=datetime.now(timezone.utc))
        await store.add_timeline(conn, row["referral_id"], "claimed", adviser, {})


async def record_contact(conn: asyncpg.Connection, row, adviser: str, method: str, outcome: str, note: str | None,
                         *, max_attempts: int, correlation_id: UUID) -> None:
    """Log a contact attempt; the last allowed failed attempt returns the young person to the LA as 820."""
    domain.check_working(row["status"], row["claimed_by"], adviser)
    failed = row["failed_contacts"] + (1 if outcome in domain.FAILED_CONTACT else 0)
    await store.update_referral(conn, row["referral_id"], status=domain.IN_CONTACT, failed_contacts=failed)
    await store.add_timeline(conn, row["referral_id"], "contact", adviser,
                             {"method": method, "outcome": outcome, "note": note, "failed_attempts": failed})
    if domain.returns_to_la(failed, max_attempts):
        await _close(conn, row, adviser, nccis.CANNOT_BE_CONTACTED, f"{failed} failed contact attempts",
                     correlation_id)


async def record_outcome(conn: asyncpg.Connection, row, adviser: str, activity_code: str, note: str | None,
                         correlation_id: UUID) -> str:
    """An activity closes the referral; 820 (cannot be contacted) returns the young person to the LA."""
    domain.check_working(row["status"], row["claimed_by"], adviser)
    return await _close(conn, row, adviser, activity_code, note, correlation_id)


async def return_stale_claims(conn: asyncpg.Connection, older_than_days: int, limit: int = 100) -> int:
    """Referrals claimed longer than the limit without an outcome go back to the LA as 'could not contact'.

    `SKIP LOCKED` lets several worker replicas run this sweep at once without doing anything twice.
    """
    rows = await conn.fetch(
        f"select {store.COLUMNS} from referrals where status in ('claimed', 'in_contact')"
        " and claimed_at < now() - make_interval(days => $1) order by claimed_at limit $2 for update skip locked",
        older_than_days, limit)
    for row in rows:
        await _close(conn, row, "sweep", nccis.CANNOT_BE_CONTACTED, f"no outcome {older_than_days} days after claim",
                     uuid4())
    return len(rows)


async def _close(conn: asyncpg.Connection, row, actor: str, activity_code: str, note: str | None,
                 correlation_id: UUID) -> str:
    could_not_contact = activity_code == nccis.CANNOT_BE_CONTACTED
    status = domain.RETURNED_TO_LA if could_not_contact else domain.CLOSED
    await store.update_referral(conn, row["referral_id"], status=status, outcome_code=activity_code)
    await store.add_timeline(conn, row["referral_id"], "outcome", actor,
                             {"activity_code": activity_code, "note": note, "status": status})
    await outbox.add(conn, ReferralOutcomeRecorded(
        producer=PRODUCER, correlation_id=correlation_id, person_key=row["person_key"],
        referral_id=row["referral_id"], case_id=row["case_id"],
        outcome="could_not_contact" if could_not_contact else "activity", activity_code=activity_code))
    return status


async def on_person_erased(conn: asyncpg.Connection, ev: PersonErased) -> None:
    """The LA erased a young person: delete their referrals (handoff, consent, timeline) under any of their keys."""
    await conn.execute("delete from referral_timeline where referral_id in (select referral_id from referrals"
                       " where person_key = any($1))", ev.person_keys)
    await conn.execute("delete from referrals where person_key = any($1)", ev.person_keys)
    await erasure.forget(conn, ev.person_keys, ev.erasure_id)
