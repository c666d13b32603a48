"""la_tracker HTTP API for possible duplicates (docs/domain-rules.md 5.8). A review belongs to the LA that holds
both people: LA staff list, read and decide only those (anything else answers 404). A review whose
people end up in different LAs is closed with a reason on both cases (handlers.close_cross_la_reviews).
The rules, scoping and audit are services/la_tracker/queries_reviews.py's."""
from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from onward.auth import Principal
from services.la_tracker import queries_reviews as queries
from services.la_tracker.queries import la_staff
from services.la_tracker.wire import ReviewDecision

router = APIRouter(prefix="/v1")


@router.get("/reviews")
async def list_reviews(request: Request, who: Principal = Depends(la_staff),
                       status: Annotated[str, Query(pattern="^(" + "|".join(queries.REVIEW_STATUSES) + ")$")] = "open",
                       page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
                       page_size: Annotated[int, Query(ge=1, le=100)] = 20) -> dict:
    """Possible duplicates whose people are both in the caller's LA, oldest first, paged."""
    return await queries.list_reviews(request.app.state.pool, who, status=status, page_no=page_no,
                                      page_size=page_size)


@router.get("/reviews/{review_id}")
async def get_review(request: Request, review_id: UUID, who: Principal = Depends(la_staff)) -> dict:
    return await queries.get_review(request.app.state.pool, review_id, who)


@router.post("/reviews/{review_id}")
async def decide_review(request: Request, review_id: UUID, body: ReviewDecision,
                        who: Principal = Depends(la_staff)) -> dict:
    """Merge the two records (the person's open cases close, linked to the candidate's) or keep them apart."""
    return await queries.decide(request.app.state.pool, review_id, who, body.decision)


@router.post("/reviews/{review_id}/split")
async def split_review(request: Request, review_id: UUID, who: Principal = Depends(la_staff)) -> dict:
    """Undo a merge: two people again, each with their own cases and timelines."""
    return await queries.split(request.app.state.pool, review_id, who, request.app.state.clock())
