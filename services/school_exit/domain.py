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

# The same statuses in the words a school's data manager reads on its pages.
ONWARD_STATUS_WORDS = {
    "registered": "Sent to the LA",
    "destination_confirmed": "Destination confirmed",
    "awaiting_confirmation": "LA waiting for confirmation",
    "with_la": "LA following up",
    "referred_to_ncs": "With the National Careers Service",
    "closed": "Follow-up closed: destination known",
}


def leaving_year(left: date) -> int:
    """The academic year a leaver left in, named by the year it ends (September to August): a leaver of
    17 July 2026 or of 20 December 2025 left in 2026 (the year 2025 to 2026)."""
    return left.year if left.month <= 8 else left.year + 1


def leaving_year_bounds(year: int) -> tuple[date, date]:
    return date(year - 1, 9, 1), date(year, 8, 31)


# Gatsby Benchmark 3 (every leaver's destination tracked for three years): the groups a school reports.
DESTINATION_GROUPS = ("education", "apprenticeship", "employment", "training", "neet", "not_known")
DESTINATION_GROUP_WORDS = {"education": "Education", "apprenticeship": "Apprenticeship", "employment": "Employment",
                           "training": "Training", "neet": "NEET", "not_known": "Not known"}


def destination_group(activity_code: str | None) -> str:
    """The Benchmark 3 group of an NCCIS activity code (docs/domain-rules.md section 3). A gap year (260) counts as
    education; re-engagement provision (530) and working not for reward (540) as NEET; custody (710),
    not-known codes and no code at all as not known."""
    if not activity_code:
        return "not_known"
    first, code = activity_code[:1], int(activity_code) if activity_code.isascii() and activity_code.isdigit() else 0
    if first == "2":
        return "education"
    if code == 310:
        return "apprenticeship"
    if 320 <= code <= 381 or code == 550:
        return "employment"
    if 410 <= code <= 460:
        return "training"
    if code in (530, 540) or 610 <= code <= 680:
        return "neet"
    return "not_known"


def best_known_activity(la_activity: str | None, school_destination: dict | None) -> str | None:
    """What a leaver is known to be doing: the LA's latest recorded activity, else the school's confirmed
    destination. An intended destination is not yet known (it counts as not known until confirmed)."""
    if la_activity:
        return la_activity
    if school_destination and school_destination.get("status") == "confirmed":
        return school_destination.get("activity_code")
    return None


def destinations_summary(leavers: list[tuple[date, str | None]], latest_year: int, years: int = 3) -> list[dict]:
    """Leavers per destination group for each of the last `years` leaving years, newest first:
    [{"year", "counts": {group: n}, "total"}]. `leavers` are (leaving date, best-known activity code)."""
    table = {y: dict.fromkeys(DESTINATION_GROUPS, 0) for y in range(latest_year, latest_year - years, -1)}
    for left, code in leavers:
        year = leaving_year(left)
        if year in table:
            table[year][destination_group(code)] += 1
    return [{"year": y, "counts": c, "total": sum(c.values())} for y, c in table.items()]
