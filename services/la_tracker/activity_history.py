"""A young person's activity and place in an LA's cohort as at a period end, from their history.

Every recorded activity is kept (table activity_history), and every change of responsible LA (table
la_history), so the return for a past period is the same file whenever it is produced: only rows
recorded on or before the period end count. Rules (docs/domain-rules.md sections 3 and 6; NCCIS MIR 2019-20):
- An intended destination not yet confirmed, and an activity nobody knows, are "not known" (810).
- DateAscertained is when the current activity was first recorded; DateVerified when it was last
  confirmed (never after the period end); StartDate is the start staff gave, never after the date
  ascertained (a future start, e.g. 616's agreed start, is not a start yet: it becomes the review date).
- NEETStartDate is the first day of the unbroken NEET spell (NEET codes only).
- Cohort status: P current; T transferred out during the period (with TransferredToLACode), shown
  once; M merged into another record during the period, shown once (the survivor carries its YPID as
  PreviousYPIDIdentifier); A left the cohort by age during the period, shown once.
Pure: standard library, the vocabulary and currency only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from schemas import nccis
from services.la_tracker import currency, domain

NOT_KNOWN = "810"
_START_DATE_AGREED = ("615", "616")


@dataclass(frozen=True)
class Activity:
    code: str
    start: date
    ascertained: date
    verified: date | None
    review: date | None
    lapse: date | None
    lapsed: bool
    neet_start: date | None
    predicted_end: date | None


def _reported_code(row) -> str:
    """Confirmed activities as recorded (a lapsed one too: it is flagged, not replaced); else not known."""
    code, status = row["activity_code"], row["activity_status"]
    return code if code and status in ("confirmed", "lapsed") else NOT_KNOWN


def _on(row) -> date:
    """When the row's activity was ascertained (the recording day if none was given)."""
    return row["ascertained"] or row["as_of"]


def _spell_start(history: list, same) -> date:
    """The date ascertained of the first row of the unbroken run at the end of `history` where `same` holds."""
    first = _on(history[-1])
    for row in reversed(history):
        if not same(row):
            break
        first = min(first, _on(row))
    return first


def activity_as_at(history: list, rules: dict[str, str], period_end: date) -> Activity | None:
    """The activity as at `period_end` from history rows ordered oldest first (later rows are ignored)."""
    history = [r for r in history if r["as_of"] <= period_end]
    if not history:
        return None
    last = history[-1]
    code = _reported_code(last)
    ascertained = min(_spell_start(history, lambda r: _reported_code(r) == code), period_end)
    given = last["start_date"]
    start = given if given and given <= ascertained else ascertained
    review = last["review_date"] or (given if code in _START_DATE_AGREED and given and given > start else None)
    predicted = (last["predicted_end"] or currency.end_of_course_year(start)
                 if code in currency.EDUCATION_OR_TRAINING else None)
    verified = max(min(_on(last), period_end), ascertained) if code != NOT_KNOWN else None
    lapse = currency.lapse_of(code, verified=verified or ascertained, start=start, review=review,
                              predicted_end=predicted, rules=rules)
    neet_start = None
    if nccis.is_neet(code):
        neet_start = min(start, _spell_start(history, lambda r: nccis.is_neet(_reported_code(r))))
    return Activity(code, start, ascertained, verified, review, lapse, currency.lapsed(lapse, period_end),
                    neet_start, predicted)


@dataclass(frozen=True)
class Placement:
    status: str                      # P | T | M | A
    transferred_to: str = ""


def la_as_at(la_rows: list, on: date) -> str | None:
    """The responsible LA on a date, from la_history rows ordered oldest first."""
    current = None
    for row in la_rows:
        if row["from_date"] > on:
            break
        current = row["la"]
    return current


def placement(person, la_rows: list, la: str, period_start: date, period_end: date) -> Placement | None:
    """Whether and how the young person appears in `la`'s return for the period (None: not at all)."""
    now, before = la_as_at(la_rows, period_end), la_as_at(la_rows, period_start - timedelta(days=1))
    if now is None:
        return None
    merged_on = person["merged_on"]
    if person["merged_into"] and merged_on and merged_on <= period_end:
        return Placement("M") if now == la and merged_on >= period_start else None
    if now != la:
        was_here = before == la or any(r["la"] == la and period_start <= r["from_date"] <= period_end for r in la_rows)
        return Placement("T", now) if was_here else None
    born, ehcp = date.fromisoformat(person["details"]["date_of_birth"]), person["facts"]["ehcp"]
    if domain.in_nccis_cohort(born, ehcp, period_end):
        return Placement("P")
    if before == la and domain.in_nccis_cohort(born, ehcp, period_start - timedelta(days=1)):
        return Placement("A")
    return None
