"""What the NCCIS return needs when staff record an activity, asked for at the time (not at month end).

From the MIR's priority-1 and -2 rules: 260, 290, 350, 616 and 710 need a review date (error 262);
education and training need a predicted (course) end date (259), not before the start; 615 and 616
(start date agreed) need the agreed start date; 280 and 460 are only for young people with an EHC plan
(254, 255); 620, 630 and 650 need their supporting characteristic 140, 120 or 180 (233-235), given
with the activity or already recorded. Pure.
"""
from __future__ import annotations

from datetime import date

from schemas import nccis
from services.la_tracker import currency

REVIEW_NEEDED = frozenset({"260", "290", "350", "616", "710"})
SUPPORTING = {"620": "140", "630": "120", "650": "180"}
NEEDS_EHC_PLAN = frozenset({"280", "460"})


class Invalid(ValueError):
    """A value the rules require is missing or wrong (HTTP 422 naming the field)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _label(code: str) -> str:
    return f"{code} ({nccis.ACTIVITY_CODES[code][0].lower()})"


def problems(code: str, *, start: date | None, review: date | None, predicted_end: date | None,
             characteristic: str | None, facts: dict) -> list[tuple[str, str]]:
    """Each (field, message) the rules find missing or wrong for this activity; empty when it can be recorded."""
    found = []
    if code in REVIEW_NEEDED and review is None:
        found.append(("review_date", f"Enter a review date: the DfE requires one for activity {_label(code)}"))
    if code in currency.EDUCATION_OR_TRAINING and predicted_end is None:
        found.append(("predicted_end_date", f"Enter the predicted end date of the course for {_label(code)}"))
    if predicted_end and start and predicted_end < start:
        found.append(("predicted_end_date", "The predicted end date is before the start date"))
    if code in ("615", "616") and start is None:
        found.append(("start_date", f"Enter the agreed start date for {_label(code)}"))
    if code in NEEDS_EHC_PLAN and not facts.get("ehcp"):
        found.append(("activity_code", f"Activity {_label(code)} is only for a young person with an EHC plan"))
    need = SUPPORTING.get(code)
    if need and need != characteristic and need not in facts.get("characteristics", []):
        found.append(("characteristic", f"Record characteristic {need} ({nccis.CHARACTERISTIC_CODES[need].lower()}) "
                                        f"with activity {_label(code)}"))
    return found


def check(code: str, **values) -> None:
    """Raise Invalid for the first problem (the API names that field)."""
    for field, message in problems(code, **values):
        raise Invalid(field, message)
