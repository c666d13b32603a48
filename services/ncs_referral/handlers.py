"""ncs_referral use cases: intake, withdrawal and the adviser's steps."""
from __future__ import annotations

from uuid import UUID

import asyncpg

from onward import outbox
from onward.consumer import Rejected
from onward.la_data import local_authorities
from schemas import nccis
from schemas.events import ReferralOutcomeRecorded, ReferralRequested, ReferralWithdrawn
from services.ncs_referral import domain, store

PRODUCER = "ncs_referral"


async def on_referral_requested(conn: asyncpg.Connection, ev: ReferralRequested) -> None:
    """Store the handoff, routed to the NCS area of the referring LA's region; never without consent."""
    if not ev.consent.share_with_ncs or ev.consent.objects_to_sharing:
        raise Rejected("referral has no recorded consent to share with the NCS")
    la = local_authorities().get(ev.responsible_la)
    if la is None:
        raise Rejected(f"referring LA {ev.responsible_la} is not an English LA")
    handoff = ev.model_dump(mode="json", include=set(domain.HANDOFF_FIELDS))
    consent = ev.consent.model_dump(mode="json", include={"share_with_ncs", "source", "recorded_at"})
    if await store.insert_referral(conn, referral_id=ev.referral_id, case_id=ev.case_id, person_key=ev.person_key,
                                   responsible_la=la.dfe_code, ncs_area=la.region, reason=ev.reason,
                                   priority=ev.priority, handoff=handoff, consent=consent):
        await store.add_timeline(conn, ev.referral_id, "received", "la", {"responsible_la": la.dfe_code,
                                                                           "reason": ev.reason})


async def on_referral_withdrawn(conn: asyncpg.Connection, ev: ReferralWithdrawn) -> None:
    row = await store.get_referral(conn, ev.referral_id, for_update=True)
    if row is None or row["status"] not in domain.OPEN:
        return
    await store.update_referral(conn, ev.referral_id, status=domain.WITHDRAWN, status_reason=ev.reason)
    await store.add_timeline(conn, ev.referral_id, "withdrawn", "la", {"reason": ev.reason})


async def claim(conn: asyncpg.Connection, row, adviser: str) -> None:
    domain.check_claim(row["status"], row["claimed_by"], adviser)
    if row["status"] == domain.NEW:
        await store.update_referral(conn, row["referral_id"], status=domain.CLAIMED, claimed_by=adviser)
        await store.add_timeline(conn, row["referral_id"], "claimed", adviser, {})


async def record_contact(conn: asyncpg.Connection, row, adviser: str, method: str, outcome: str, note: str | None) -> None:
    domain.check_working(row["status"], row["claimed_by"], adviser)
    await store.update_referral(conn, row["referral_id"], status=domain.IN_CONTACT)
    await store.add_timeline(conn, row["referral_id"], "contact", adviser,
                             {"method": method, "outcome": outcome, "note": note})


async def record_outcome(conn: asyncpg.Connection, row, adviser: str, activity_code: str, note: str | None,
                         correlation_id: UUID) -> str:
    """An activity closes the referral; 820 (cannot be contacted) returns the young person to the LA."""
    domain.check_working(row["status"], row["claimed_by"], adviser)
    could_not_contact = activity_code == nccis.CANNOT_BE_CONTACTED
    status = domain.RETURNED_TO_LA if could_not_contact else domain.CLOSED
    await store.update_referral(conn, row["referral_id"], status=status, outcome_code=activity_code)
    await store.add_timeline(conn, row["referral_id"], "outcome", adviser,
                             {"activity_code": activity_code, "note": note, "status": status})
    await outbox.add(conn, ReferralOutcomeRecorded(
        producer=PRODUCER, correlation_id=correlation_id, person_key=row["person_key"],
        referral_id=row["referral_id"], case_id=row["case_id"],
        outcome="could_not_contact" if could_not_contact else "activity", activity_code=activity_code))
    return status
