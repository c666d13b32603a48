"""Rules about a school's leaver report. Standard library only."""
from __future__ import annotations

from datetime import date, timedelta

MIN_AGE_AT_LEAVING, MAX_AGE_AT_LEAVING = 11, 25
MAX_DAYS_AHEAD = 60


def age_on(born: date, on: date) -> int:
    """Completed years of age on a date."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def check_dates(date_of_birth: date, leaving_date: date, today: date) -> dict[str, str]:
    """Date rules of a leaver report; returns {field: problem} (empty when the dates are plausible)."""
    problems: dict[str, str] = {}
    if date_of_birth > today:
        problems["date_of_birth"] = "date of birth is in the future"
    if leaving_date < date_of_birth:
        problems["leaving_date"] = "leaving date is before the date of birth"
    elif leaving_date > today + timedelta(days=MAX_DAYS_AHEAD):
        problems["leaving_date"] = f"leaving date is more than {MAX_DAYS_AHEAD} days ahead"
    if "date_of_birth" not in problems and "leaving_date" not in problems:
        age = age_on(date_of_birth, leaving_date)
        if not MIN_AGE_AT_LEAVING <= age <= MAX_AGE_AT_LEAVING:
            problems["date_of_birth"] = (
                f"age at leaving would be {age}; it must be {MIN_AGE_AT_LEAVING} to {MAX_AGE_AT_LEAVING}")
    return problems


# What the school sees of a leaver's journey, in the order it usually happens.
ONWARD_STATUSES = (
    "registered",             # accepted, on its way to the LA
    "destination_confirmed",  # confirmed EET destination: no follow-up needed
    "awaiting_confirmation",  # intended destination, LA waits for confirmation
    "with_la",                # in the LA's follow-up queue
    "referred_to_ncs",        # handed to a National Careers Service adviser
    "closed",                 # a destination was found; the case is closed
)
