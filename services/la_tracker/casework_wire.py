"""HTTP bodies of la_tracker's casework (v1, added December 2026): the handoff's words, assignment,
follow-up tasks and notes. Unknown fields are refused, so a typo is a 422 naming the field."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from services.la_tracker.wire import Body

NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL: a 422, not a 500
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300, pattern=NO_NUL)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000, pattern=NO_NUL)]
CHANNELS = ("phone", "text", "email", "letter", "video_call", "in_person", "no_preference")


class HandoffIn(Body):
    """What the LA learned that helps an NCS adviser make contact (all optional)."""

    wants: Text | None = None
    best_time: Short | None = None
    best_channel: Literal[CHANNELS] | None = None  # type: ignore[valid-type]
    access_needs: Text | None = None
    contact_notes: Text | None = None
    share_notes: bool = False  # the young person agreed that the LA's notes go to the NCS
    officer_contact: Short | None = None


class AssignIn(Body):
    assignee: Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)] | None = None  # staff sub; None unassigns


class BulkAssignIn(AssignIn):
    case_ids: Annotated[list[UUID], Field(min_length=1, max_length=500)]


class TaskIn(Body):
    due_on: date
    description: Short


class NoteIn(Body):
    text: Text
