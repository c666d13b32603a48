"""What LA staff decide about possible duplicates (docs/domain-rules.md 5.8): keep them apart, merge them, or undo
a merge (split). A merge closes the duplicate's open cases with a link to the surviving case and notes
it on both timelines; a split reopens those cases as they were, routes the person again, and notes it."""
from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg

from onward.auth import Principal
from services.la_tracker import domain, store
from services.la_tracker.handlers import Cause, reroute, transition, withdraw_referral, young_person
from services.la_tracker.staff import NotAllowed


async def _note(conn, case_id: UUID | None, kind: str, who: Principal, detail: dict) -> None:
    if case_id is not None:
        await store.add_timeline(conn, case_id, kind, who.label, detail)


async def keep_apart(conn: asyncpg.Connection, review, who: Principal) -> None:
    """Two people (or a held-back report dismissed): nothing changes but the review and both timelines."""
    await store.set_review(conn, review["review_id"], "kept_apart", who.label)
    for case_id in (review["a_case"], review["b_case"]):
        await _note(conn, case_id, "review_kept_apart", who, {"review_id": str(review["review_id"])})


async def merge(conn: asyncpg.Connection, review, who: Principal) -> None:
    """The newer record (the review's person) becomes part of the older one (the candidate)."""
    if review["candidate_key"] is None:
        raise NotAllowed("a report held back has no second record to merge with; keep it apart to dismiss it")
    keep, duplicate, keep_case = review["candidate_key"], review["person_key"], review["b_case"]
    cause, closed = Cause("StaffMergedDuplicate"), []
    link = {"review_id": str(review["review_id"]), "into_case_id": keep_case and str(keep_case)}
    for case in await store.open_cases_of(conn, duplicate):
        closed.append({"case_id": str(case["case_id"]), "status": case["status"], "reason": case["reason"]})
        await withdraw_referral(conn, cause, case, "merged_duplicate")
        await transition(conn, cause, case, domain.CLOSED, "merged_duplicate", actor=who.label)
        await _note(conn, case["case_id"], "merged", who, {**link, "into_person": keep})
    await store.set_person_fields(conn, duplicate, merged_into=keep)
    await store.add_alias(conn, duplicate, keep, "staff_merge")
    await _note(conn, keep_case, "merged_in", who, {"review_id": str(review["review_id"]),
                                                    "from_case_ids": [c["case_id"] for c in closed]})
    await store.set_review(conn, review["review_id"], "merged", who.label, {"closed_cases": closed})


async def split(conn: asyncpg.Connection, review, who: Principal, today: date) -> None:
    """Undo a merge: two people again, the duplicate's cases reopened as they were and routed again (a
    referral withdrawn by the merge is requested again when the rules allow), a note on both timelines."""
    if review["status"] != "merged":
        raise NotAllowed(f"only a merge can be undone; this review is {review['status'].replace('_', ' ')}")
    keep, duplicate = review["candidate_key"], review["person_key"]
    await store.set_person_fields(conn, duplicate, merged_into=None)
    await store.remove_alias(conn, duplicate, keep)
    cause, note = Cause("StaffSplitMerge"), {"review_id": str(review["review_id"])}
    person = await store.get_young_person(conn, duplicate)
    for closed in (review["merge_record"] or {}).get("closed_cases", []):
        case = await store.get_case(conn, UUID(closed["case_id"]), for_update=True)
        await transition(conn, cause, case, closed["status"], closed["reason"], actor=who.label)
        await _note(conn, case["case_id"], "split", who, {**note, "from_person": keep})
        await reroute(conn, cause, duplicate, case["responsible_la"],
                      young_person(person["facts"], person["activity_code"], person["activity_status"]), today)
    await _note(conn, review["b_case"], "split", who, {**note, "from_person": duplicate})
    await store.set_review(conn, review["review_id"], "split", who.label)
