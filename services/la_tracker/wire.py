"""HTTP bodies of la_tracker (v1)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from schemas import nccis
from services.la_tracker.currency import validate_rule
from schemas.text import PlainTextBody

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class Body(PlainTextBody):
    model_config = ConfigDict(extra="forbid")


class ContactIn(Body):
    method: Literal["phone", "email", "text", "letter", "home_visit", "social_media", "other"]
    outcome: Literal["reached", "no_answer", "left_message", "wrong_details", "refused"]
    note: Note | None = None


class ActivityIn(Body):
    activity_code: Annotated[str, AfterValidator(nccis.validate_activity_code)]
    start_date: date | None = None
    review_date: date | None = None
    predicted_end_date: date | None = None
    # 620/630/650 need their supporting characteristic (140/120/180): given here or already recorded.
    characteristic: Annotated[str, AfterValidator(nccis.validate_characteristic_code)] | None = None


class ConsentIn(Body):
    share_with_ncs: bool
    source: Literal["young_person_verbal", "young_person_written", "young_person_online", "parent_carer", "school"]


class ReviewDecision(Body):
    decision: Literal["merge", "keep_apart"]


class PolicyIn(Body):
    referral_delay_days: Annotated[int, Field(ge=0, le=365)] = 0
    confirmation_due_days: Annotated[int, Field(ge=0, le=365)] = 30
    consent_required: bool = True
    contact_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    contact_min_days: Annotated[int, Field(ge=0, le=90)] = 7


MonthDay = Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]


class NccisSettingsIn(Body):
    level_of_need_default: Annotated[int, Field(ge=1, le=3)] = 1
    confirmation_due: MonthDay = "11-01"
    currency: dict[Annotated[str, AfterValidator(nccis.validate_activity_code)],
                   Annotated[str, AfterValidator(validate_rule)]] = {}


class LevelOfNeedIn(Body):
    level_of_need: Annotated[int, Field(ge=1, le=3)] | None
