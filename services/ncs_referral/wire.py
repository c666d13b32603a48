"""Bodies an NCS adviser sends (the JSON API's and the pages' forms alike); separate from the database rows."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from schemas import nccis
from schemas.text import PlainTextBody

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class ContactIn(PlainTextBody):
    model_config = ConfigDict(extra="forbid")
    method: Literal["phone", "email", "text", "letter", "visit", "other"]
    outcome: Literal["reached", "no_answer", "left_message", "wrong_details", "refused"]
    note: Note | None = None
    confirm_return: bool = False  # the attempt that returns the young person to the LA must be confirmed


class OutcomeIn(PlainTextBody):
    model_config = ConfigDict(extra="forbid")
    activity_code: Annotated[str, AfterValidator(nccis.validate_activity_code)]
    note: Note | None = None
    provider: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    start_date: date | None = None


class AssignIn(PlainTextBody):
    """Who works the referral: an adviser's staff id (`sub`) of its NCS area; null unassigns a new one."""
    model_config = ConfigDict(extra="forbid")
    assignee: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class BulkAssignIn(AssignIn):
    referral_ids: Annotated[list[UUID], Field(min_length=1, max_length=500)]
