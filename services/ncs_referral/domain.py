"""Referral lifecycle rules for NCS advisers. Standard library only."""
from __future__ import annotations

from datetime import date, timedelta

NEW, CLAIMED, IN_CONTACT, CLOSED, WITHDRAWN, RETURNED_TO_LA = (
    "new", "claimed", "in_contact", "closed", "withdrawn", "returned_to_la")
REFERRAL_STATUSES = (NEW, CLAIMED, IN_CONTACT, CLOSED, WITHDRAWN, RETURNED_TO_LA)
OPEN = frozenset({NEW, CLAIMED, IN_CONTACT})
WORKING = frozenset({CLAIMED, IN_CONTACT})

HANDOFF_FIELDS = ("given_name", "family_name", "date_of_birth", "email", "phone", "postcode_district",
                  "send_ehcp", "sen_support")
# What the LA learned, in words (December 2026, optional): kept with the handoff fields.
HANDOFF_WORDS = ("reason_text", "wants", "best_time", "best_channel", "access_needs", "school_laestab",
                 "school_name", "la_contact_notes", "la_officer_name", "la_officer_contact")


class NotAllowed(Exception):
    """The referral is not in a state that allows this step (HTTP 409)."""


class NotFound(LookupError):
    """No such referral, or another NCS area's: the same answer (HTTP 404), so its existence is not disclosed."""


def check_claim(status: str, claimed_by: str | None, adviser: str) -> None:
    """One adviser at a time: a new referral can be claimed; someone else's claim cannot be taken."""
    if status == NEW:
        return
    if status in WORKING and claimed_by == adviser:
        return
    raise NotAllowed(f"referral is {status}" + (" by another adviser" if status in WORKING else ""))


def check_working(status: str, claimed_by: str | None, adviser: str) -> None:
    """Contacts and outcomes need the referral claimed by this adviser."""
    if status not in WORKING:
        raise NotAllowed(f"referral is {status}; claim it first" if status == NEW else f"referral is {status}")
    if claimed_by != adviser:
        raise NotAllowed("referral is claimed by another adviser")

def check_assign(status: str, assignee: str | None) -> None:
    """Only an open referral is assigned; one being worked always has an adviser (it can be passed to
    another, with its claim, but not left with nobody)."""
    if status not in OPEN:
        raise NotAllowed(f"referral is {status}")
    if assignee is None and status in WORKING:
        raise NotAllowed("a referral being worked stays with an adviser: assign it to someone else")


# Contact outcomes that count as a failed attempt to reach the young person.
FAILED_CONTACT = frozenset({"no_answer", "left_message", "wrong_details"})


# A return to the LA can be undone for this long; only then is the LA told.
UNDO_WINDOW = timedelta(days=1)


class ConfirmReturn(NotAllowed):
    """This attempt would return the young person to the LA: the adviser must confirm it first."""


def counted_attempts(attempts: list[tuple[date, str]]) -> list[tuple[date, str]]:
    """Unanswered attempts that count: each on a day or by a channel not already tried together
    (three calls in one afternoon are one attempt; a call, a text and an email are three)."""
    counted: list[tuple[date, str]] = []
    for day, channel in attempts:
        if (day, channel) not in counted:
            counted.append((day, channel))
    return counted


def could_not_contact(attempts: list[tuple[date, str]], min_attempts: int, min_days: int) -> bool:
    """The LA's rule (defaults 3 attempts over at least 7 days): enough counted attempts, spread
    over enough days from the first to the last."""
    counted = counted_attempts(attempts)
    if len(counted) < min_attempts:
        return False
    days = [d for d, _ in counted]
    return (max(days) - min(days)).days >= min_days


def return_warning(given_name: str, la_name: str, attempts: int, first: date | None) -> str:
    """What the adviser is told before the attempt that returns the young person to the LA."""
    since = f" since {first.day} {first:%B %Y}" if first else ""
    return (f"This would be attempt {attempts}{since}. Recording it returns {given_name} to {la_name} as"
            " 'cannot be contacted' (820): the referral closes for you, the LA keeps their case and sees"
            " it first in its list. You can undo this for one day.")


# Waiting-time bands for the queue's service-level view (upper bounds in seconds).
AGE_BANDS = (("under_1h", 3600), ("1h_to_1d", 86400), ("1d_to_7d", 7 * 86400), ("over_7d", None))


def age_band(waiting_seconds: float) -> str:
    for name, upper in AGE_BANDS:
        if upper is None or waiting_seconds < upper:
            return name
    raise AssertionError("unreachable")
