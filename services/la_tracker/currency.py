"""Currency: how long a recorded activity stays current before the return counts it "not known".

docs/domain-rules.md section 6 (the LA suppliers' defaults, which each LA can change per activity code):
education (2xx) to the 31 August after the course year; apprenticeship and employment with study
(310, 320) 12 months; other employment and training (330-460, 550) 6 months; re-engagement (530)
3 months; 260, 290, 350, 710 the review date + 28 days; NEET and not-known codes have no lapse date
of their own (they stay until changed). When currency lapses the activity is kept and flagged
(CurrencyLapsed = Y), never overwritten. Pure: standard library and the NCCIS vocabulary only.
"""
from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from schemas import nccis

END_OF_COURSE_YEAR, REVIEW_PLUS_28, NO_LAPSE = "end_of_course_year", "review_plus_28", "none"
_MONTHS = re.compile(r"^months:([1-9][0-9]?)$")
RULE_LABELS = {END_OF_COURSE_YEAR: "To 31 August after the course year", REVIEW_PLUS_28: "Review date + 28 days",
               NO_LAPSE: "No lapse date (stays until changed)"}
# Education and training: the MIR wants a predicted (course) end date for these (error 259).
EDUCATION_OR_TRAINING = frozenset({"210", "220", "230", "240", "250", "260", "270", "280", "290",
                                   "410", "430", "440", "450", "460"})


def default_rule(code: str) -> str:
    """The suppliers' default currency rule for an activity code."""
    if code in ("260", "290", "350", "710"):
        return REVIEW_PLUS_28
    if code.startswith("2"):
        return END_OF_COURSE_YEAR
    if code in ("310", "320"):
        return "months:12"
    if code == "530":
        return "months:3"
    if nccis.is_neet(code) or nccis.is_not_known(code):
        return NO_LAPSE
    return "months:6"


def default_table() -> dict[str, str]:
    return {code: default_rule(code) for code in nccis.ACTIVITY_CODES}


def validate_rule(rule: str) -> str:
    """A rule is end_of_course_year, review_plus_28, none, or months:N (N from 1 to 99)."""
    if rule in (END_OF_COURSE_YEAR, REVIEW_PLUS_28, NO_LAPSE) or _MONTHS.match(rule):
        return rule
    raise ValueError(f"{rule!r} is not a currency rule (end_of_course_year, review_plus_28, none or months:N)")


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def end_of_course_year(start: date) -> date:
    """31 August ending the course year: a date from July on belongs to the course year starting that September."""
    return date(start.year + (1 if start.month >= 7 else 0), 8, 31)


def due_to_lapse(rule: str, *, verified: date, start: date | None, review: date | None,
                 predicted_end: date | None = None) -> date | None:
    """The DueToLapseDate of an activity under `rule`, never after its predicted end date (error 238)."""
    if rule == NO_LAPSE:
        return None
    if rule == END_OF_COURSE_YEAR:
        lapse = end_of_course_year(start or verified)
    elif rule == REVIEW_PLUS_28:
        lapse = (review or verified) + timedelta(days=28)
    else:
        lapse = add_months(verified, int(_MONTHS.match(rule).group(1)))
    return min(lapse, predicted_end) if predicted_end else lapse


def lapsed(lapse: date | None, period_end: date) -> bool:
    """CurrencyLapsed is Y exactly when the due-to-lapse date is before the period end."""
    return lapse is not None and lapse < period_end


def lapse_of(code: str, *, verified: date, start: date | None = None, review: date | None = None,
             predicted_end: date | None = None, rules: dict[str, str] | None = None) -> date | None:
    """An activity's due-to-lapse date under the LA's table (`rules`), else the suppliers' default."""
    rule = (rules or {}).get(code) or default_rule(code)
    return due_to_lapse(rule, verified=verified, start=start, review=review, predicted_end=predicted_end)
