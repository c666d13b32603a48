"""What LA staff ask and decide about possible duplicates (docs/domain-rules.md 5.8), for the JSON API
(api_reviews.py) and the pages (web.py) alike. A review belongs to the LA that holds both people: LA
staff list, read and decide only those (anything else answers 404); every read is audited."""
from __future__ import annotations

from uuid import UUID

from fastapi import HTTPException

from onward.audit import record_read
from onward.auth import Principal
from onward.listing import Query as Where, page
from services.la_tracker import reviews, store
from services.la_tracker.staff import NotAllowed

REVIEW_STATUSES = ("open", "merged", "kept_apart", "split", "closed_cross_la")
# What a person needs to decide, for each side (a held-back report shows what it said).
SIDE_FIELDS = ("upn", "uln", "given_name", "family_name", "date_of_birth", "school_laestab", "address_lines",
               "home_postcode", "email", "phone")


def _side(key: str | None, la: str | None, details: dict | None, case_id) -> dict | None:
    if details is None:
        return None
    return {"person_key": key, "responsible_la": la, "case_id": case_id and str(case_id),
            **{k: details.get(k) for k in SIDE_FIELDS}}


def review_json(r) -> dict:
    return {"review_id": str(r["review_id"]), "reason": r["reason"], "status": r["status"],
            "created_at": r["created_at"].isoformat(), "decided_by": r["decided_by"],
            "person": _side(r["person_key"], r["a_la"], r["a_details"], r["a_case"]),
            "candidate": _side(r["candidate_key"], r["b_la"], r["b_details"], r["b_case"]),
            "held_report": _side(None, None, r["report"], None)}


async def list_reviews(pool, who: Principal, *, status: str = "open", page_no: int = 1, page_size: int = 20) -> dict:
    """Possible duplicates whose people are both in the caller's LA, oldest first, paged."""
    where = Where()
    if who.role == "la_staff":
        where.where(store.REVIEW_SCOPE, who.la)
    where.where("r.status = {}", status)
    async with pool.acquire() as conn:
        result = await page(conn, store.REVIEW_SELECT, store.REVIEW_FROM, where, " order by r.created_at, r.review_id",
                            page_no, page_size)
        await record_read(conn, who, "review", [r["review_id"] for r in result["items"]], SIDE_FIELDS)
    return {**result, "items": [review_json(r) for r in result["items"]]}


async def own_review(conn, review_id: UUID, who: Principal, *, for_update: bool = False):
    """The review when the caller's LA holds both its people; else 404, so its existence is not disclosed."""
    review = await store.get_review(conn, review_id, for_update=for_update)
    held_by = review and {review["a_la"], review["b_la"] if review["candidate_key"] else review["a_la"]}
    if review is None or (who.role == "la_staff" and held_by != {who.la}):
        raise HTTPException(404, "review not found")
    return review


async def get_review(pool, review_id: UUID, who: Principal) -> dict:
    async with pool.acquire() as conn:
        review = await own_review(conn, review_id, who)
        await record_read(conn, who, "review", [review_id], SIDE_FIELDS)
    return review_json(review)


async def _decide(pool, review_id: UUID, who: Principal, action, *, want: str = "open") -> dict:
    try:
        async with pool.acquire() as conn, conn.transaction():
            review = await own_review(conn, review_id, who, for_update=True)
            if review["status"] != want:
                raise HTTPException(409, f"review already decided: {review['status']}")
            await action(conn, review)
            review = await store.get_review(conn, review_id)
    except NotAllowed as exc:
        raise HTTPException(409, str(exc)) from None
    return review_json(review)


async def decide(pool, review_id: UUID, who: Principal, decision: str) -> dict:
    """Merge the two records (the person's open cases close, linked to the candidate's) or keep them apart."""
    if decision == "merge":
        return await _decide(pool, review_id, who, lambda conn, r: reviews.merge(conn, r, who))
    return await _decide(pool, review_id, who, lambda conn, r: reviews.keep_apart(conn, r, who))


async def split(pool, review_id: UUID, who: Principal, today) -> dict:
    """Undo a merge: two people again, each with their own cases and timelines."""
    return await _decide(pool, review_id, who, lambda conn, r: reviews.split(conn, r, who, today), want="merged")
