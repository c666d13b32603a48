"""Referral lifecycle rules for NCS advisers. Standard library only."""
from __future__ import annotations

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

# Contact outcomes that count as a failed attempt to reach the young person.
FAILED_CONTACT = frozenset({"no_answer", "left_message", "wrong_details"})


def returns_to_la(failed_contacts: int, max_attempts: int) -> bool:
    """'Could not contact' once the adviser has failed `max_attempts` times (configurable)."""
    return failed_contacts >= max_attempts


# Waiting-time bands for the queue's service-level view (upper bounds in seconds).
AGE_BANDS = (("under_1h", 3600), ("1h_to_1d", 86400), ("1d_to_7d", 7 * 86400), ("over_7d", None))


def age_band(waiting_seconds: float) -> str:
    for name, upper in AGE_BANDS:
        if upper is None or waiting_seconds < upper:
            return name
    raise AssertionError("unreachable")
