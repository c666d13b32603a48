"""school_exit use cases: register a leaver, report a destination, reflect what happened next."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from uuid import UUID, uuid4

import asyncpg

from onward import erasure, outbox
from onward.person_key import person_key
from schemas import nccis
from schemas.events import (CaseStatus, CaseStatusChanged, Consent, Destination, DestinationReported,
                            LeaverRegistered, PersonErasureRequested, Send)
from services.school_exit import store
from services.school_exit.wire import DestinationIn, LeaverIn

PRODUCER = "school_exit"


@dataclass(frozen=True)
class Registered:
    leaver_id: UUID
    person_key: str
    status: str  # accepted | unchanged | updated
    onward_status: str


def _content_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


# Characteristics that route a young person (to the leaving-care team) stay even under an objection.
_ROUTING_CHARACTERISTICS = frozenset({nccis.LOOKED_AFTER, nccis.CARE_LEAVER})


def _event(leaver: LeaverIn, leaver_id: UUID, pkey: str, revision: int, correlation_id: UUID) -> LeaverRegistered:
    """The event the LA receives. When the young person objects to sharing (ESA 2008 s.14), only name,
    address and DOB leave school_exit, with what routing needs: identifiers, year, dates, destination,
    EHC plan and care status. Contact details, gender, ethnicity and other characteristics stay here."""
    d = leaver.model_dump()
    if d["consent"]["objects_to_sharing"]:
        d |= {"email": None, "phone": None, "gender": None, "ethnicity": None,
              "characteristics": [c for c in d["characteristics"] if c in _ROUTING_CHARACTERISTICS]}
    return LeaverRegistered(
        producer=PRODUCER, correlation_id=correlation_id, person_key=pkey, leaver_id=leaver_id, revision=revision,
        upn=d["upn"], uln=d["uln"], given_name=d["given_name"], family_name=d["family_name"],
        date_of_birth=d["date_of_birth"], home_postcode=d["home_postcode"], address_lines=d["address_lines"],
        email=d["email"], phone=d["phone"], school_laestab=d["school_laestab"], nc_year=d["nc_year"],
        leaving_date=d["leaving_date"], destination=Destination(**d["destination"]) if d["destination"] else None,
        send=Send(**d["send"]), characteristics=d["characteristics"],
        consent=Consent(**d["consent"], source="school_leaver_report", recorded_at=None),
        gender=d["gender"], ethnicity=d["ethnicity"],
    )


async def register_leavers(conn: asyncpg.Connection, leavers: list[LeaverIn], *, person_key_secret: str,
                           correlation_id: UUID) -> list[Registered]:
    """Register reports in bulk. A resend of the same report changes nothing; a changed resend is an
    update (revision + 1). The same report twice in one call behaves as if sent one after the other.

    Call inside a transaction: the leaver rows and their LeaverRegistered events commit together.
    """
    results: list[Registered | None] = [None] * len(leavers)
    first: dict[tuple, int] = {}
    repeats: list[int] = []
    for i, lv in enumerate(leavers):
        key = (lv.upn, lv.school_laestab, lv.leaving_date)
        if key in first:
            repeats.append(i)
        else:
            first[key] = i
    bodies = {i: leavers[i].model_dump(mode="json") for i in first.values()}
    rows = [(uuid4(), person_key(person_key_secret, leavers[i].upn), leavers[i].upn, leavers[i].school_laestab,
             leavers[i].leaving_date, _content_hash(bodies[i]), bodies[i]) for i in first.values()]
    inserted = await store.insert_leavers(conn, rows) if rows else set()
    events, resent = [], []
    for i, row in zip(first.values(), rows):
        if row[0] in inserted:
            events.append(_event(leavers[i], row[0], row[1], 1, correlation_id))
            results[i] = Registered(row[0], row[1], "accepted", "registered")
        else:
            resent.append(i)
    await outbox.add(conn, *events)
    for i in resent + repeats:  # rare: resends and in-batch repeats, one at a time
        results[i] = await _resend(conn, leavers[i], person_key_secret, correlation_id)
    return results


async def _resend(conn: asyncpg.Connection, leaver: LeaverIn, secret: str, correlation_id: UUID) -> Registered:
    body = leaver.model_dump(mode="json")
    digest = _content_hash(body)
    key = (leaver.upn, leaver.school_laestab, leaver.leaving_date)
    existing = (await store.lock_leavers_by_report(conn, [key]))[key]
    if existing["content_hash"] == digest:
        return Registered(existing["leaver_id"], existing["person_key"], "unchanged", existing["onward_status"])
    revision = await store.update_leaver(conn, existing["leaver_id"], digest, body)
    await outbox.add(conn, _event(leaver, existing["leaver_id"], existing["person_key"], revision, correlation_id))
    return Registered(existing["leaver_id"], existing["person_key"], "updated", existing["onward_status"])


async def report_destination(conn: asyncpg.Connection, leaver_row: asyncpg.Record, destination: DestinationIn,
                             correlation_id: UUID) -> None:
    """Record the destination on the leaver and tell the LA (DestinationReported), in one transaction."""
    dest = destination.model_dump()
    await store.set_destination(conn, leaver_row["leaver_id"], dest)
    if dest["status"] == "confirmed" and nccis.is_eet(dest["activity_code"]):
        await store.set_onward_status(conn, leaver_row["leaver_id"], "destination_confirmed", "destination_reported",
                                      {"activity_code": dest["activity_code"], "status": dest["status"]})
    await outbox.add(conn, DestinationReported(
        producer=PRODUCER, correlation_id=correlation_id, person_key=leaver_row["person_key"],
        leaver_id=leaver_row["leaver_id"], school_laestab=leaver_row["school_laestab"],
        destination=Destination(**dest)))


# Feedback: the LA case statuses (schemas.events.CaseStatus) the school sees by name; any other open
# or transferred case is "with_la" (the LA follows up).
_CASE_TO_ONWARD: dict[CaseStatus, str] = {
    "awaiting_confirmation": "awaiting_confirmation", "referred_to_ncs": "referred_to_ncs", "closed": "closed"}


def onward_status(case_status: CaseStatus) -> str:
    """What the school sees of an LA case status."""
    return _CASE_TO_ONWARD.get(case_status, "with_la")


async def on_case_status_changed(conn: asyncpg.Connection, event: CaseStatusChanged) -> None:
    if event.leaver_id is None:
        return
    row = await store.get_leaver(conn, event.leaver_id, for_update=True)
    if row is None:
        return
    await store.set_onward_status(conn, event.leaver_id, onward_status(event.status),
                                  "case_status_changed", _feedback(event))


def _feedback(event: CaseStatusChanged) -> dict:
    return {"case_status": event.status, "reason": event.reason, "responsible_la": event.responsible_la,
            "activity_code": event.activity_code}


async def on_case_statuses_changed(conn: asyncpg.Connection, events: list[CaseStatusChanged]) -> list:
    """The same as on_case_status_changed for a whole batch in two statements: every change goes on
    its leaver's timeline, in order, and each leaver ends with its last status. Leaves nothing over."""
    changes = [e for e in events if e.leaver_id is not None]
    if changes:
        await store.add_timelines(conn, "case_status_changed", [(e.leaver_id, _feedback(e)) for e in changes])
        await store.set_onward_statuses(conn, {e.leaver_id: onward_status(e.status) for e in changes})
    return []


async def erase_person(conn: asyncpg.Connection, pkey: str, reason: str, correlation_id: UUID) -> tuple[UUID, int]:
    """Erase school_exit's copy of a young person (their leaver reports and timelines, and the outbox
    payloads that carried them) and ask the other services to do the same, in one transaction."""
    erasure_id = uuid4()
    removed = await store.erase_person(conn, pkey)
    await erasure.forget(conn, [pkey], erasure_id)
    await outbox.add(conn, PersonErasureRequested(producer=PRODUCER, correlation_id=correlation_id, person_key=pkey,
                                                  erasure_id=erasure_id, reason=reason))
    return erasure_id, removed
