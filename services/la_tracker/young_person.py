"""The young person's own voice (issue 17): links, reminders and what their answers mean. Pure rules.

- **A link, not a login.** A link carries only a random token (192 bits); la_tracker stores its keyed
  hash, never the token. A link opens one visit (single use), expires (default 14 days) and is
  rate-limited; the pages show only the first name.
- **Who is asked.** A case that opens (or reopens) as not known, or with an intended destination
  awaiting confirmation, gets a message with a link; then reminders per the LA's schedule (default
  7 days after the first, then every 30 days, none after 365 days), and none once they answered or
  the case closed.
- **What an answer means** in NCCIS codes (docs/domain-rules.md 3). Kept simple and honest: where one answer
  covers several codes, one plain follow-up question picks the code ("studying" -> 210/220/230/240/250;
  "a job" -> 330/340/360/380); training is 430 ("other training"), looking for work or training 619,
  "not able to work right now" 680 (we do not ask about health, caring or pregnancy online: 620/630/650
  need characteristics the LA records after talking to them); "something else" changes no code: the
  young person's words go to the LA.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import date, timedelta

from schemas import nccis
from services.la_tracker import domain

INVITED_STATUSES = frozenset({domain.NOT_KNOWN, domain.AWAITING_CONFIRMATION})
SOURCE = "young_person_online"  # the consent source, as staff record it too (wire.ConsentIn)
VISIT_MINUTES = 60  # how long one visit from a link lasts
MAX_CHANGES_PER_VISIT = 10

# answer -> (what the page says, the code when no follow-up is needed, the follow-up question's name)
ANSWERS: dict[str, tuple[str, str | None, str | None]] = {
    "studying": ("Studying", None, "course"),
    "apprenticeship": ("An apprenticeship", "310", None),
    "job": ("A job", None, "job"),
    "training": ("Training", "430", None),
    "looking": ("Looking for work or training", "619", None),
    "not_able": ("Not able to work or study right now", "680", None),
    "something_else": ("Something else", None, None),
}
FOLLOW_UPS: dict[str, dict[str, tuple[str, str]]] = {
    "course": {"school_sixth_form": ("Sixth form at a school", "210"),
               "sixth_form_college": ("A sixth-form college", "220"),
               "college": ("College or other further education", "230"),
               "university": ("University or other higher education", "240"),
               "part_time": ("A part-time course", "250")},
    "job": {"full_time_training": ("Full-time, with training", "340"),
            "full_time": ("Full-time, without training", "330"),
            "part_time": ("Part-time", "360"),
            "self_employed": ("Self-employed", "380")},
}
CONTACT_BY = {"phone": "A phone call", "text": "A text message", "email": "An email"}
CONTACT_TIME = {"morning": "Morning", "afternoon": "Afternoon", "evening": "Evening", "any": "Any time"}


class NotAnAnswer(ValueError):
    """The answer (or its follow-up) is not one the page offers."""


def activity_code(answer: str, follow_up: str | None = None) -> str | None:
    """The NCCIS activity code an answer means (None: "something else", no code)."""
    if answer not in ANSWERS:
        raise NotAnAnswer(answer)
    _, code, question = ANSWERS[answer]
    if question is None:
        return code
    if follow_up not in FOLLOW_UPS[question]:
        raise NotAnAnswer(follow_up or "")
    return FOLLOW_UPS[question][follow_up][1]


def follow_up_of(answer: str) -> str | None:
    return ANSWERS[answer][2]


def is_eet_answer(code: str | None) -> bool:
    """An EET answer closes the case; a NEET answer (or none) keeps it open with their words."""
    return code is not None and nccis.is_eet(code)


def asks_where(code: str | None) -> bool:
    """Provider and start date are asked for education, training and work (not for NEET answers)."""
    return is_eet_answer(code)


def first_name(given_name: str) -> str:
    """The pages and messages greet by first name only (no family name, DOB or address)."""
    return (given_name or "").split(" ")[0][:40]


# --- links -------------------------------------------------------------------------------------------

def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(key: str, token: str) -> str:
    """What is stored: a keyed hash, so a copy of the table does not open anyone's link."""
    return hmac.new(key.encode(), b"you-link:" + token.encode(), hashlib.sha256).hexdigest()


def plausible_token(token: str | None) -> bool:
    """Tokens are 32 URL-safe characters; anything else is refused before a database lookup."""
    return bool(token) and len(token) == 32 and all(c.isascii() and (c.isalnum() or c in "-_") for c in token)


# --- reminders ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReminderSchedule:
    """An LA's schedule (stored per LA; these are the defaults)."""

    first_reminder_days: int = 7
    every_days: int = 30
    stop_after_days: int = 365


def next_message_on(schedule: ReminderSchedule, started_on: date, sent: int) -> date | None:
    """When the next message is due after `sent` messages: the first at once, a reminder
    `first_reminder_days` later, then every `every_days`; none after `stop_after_days`."""
    if sent == 0:
        due = started_on
    else:
        due = started_on + timedelta(days=schedule.first_reminder_days + (sent - 1) * schedule.every_days)
    return due if due <= started_on + timedelta(days=schedule.stop_after_days) else None


def message_body(first: str, link: str, la_name: str, reminder: bool, days: int = 14) -> str:
    """The text of a message (development mailbox; Notify's templates hold the same words)."""
    opening = f"Hello {first}, a reminder from {la_name}." if reminder else f"Hello {first}, this is {la_name}."
    return (f"{opening} Tell us what you are doing now, or ask for help from a careers adviser:"
            f" {link} The link works once and for {days} days.")


# --- asking for help ---------------------------------------------------------------------------------

def help_decision(decision: domain.Decision, today: date) -> domain.Decision:
    """A young person who asks for help, with consent, is referred at once when the usual rules allow a
    referral at all (the LA's referral delay is for the LA to try first; they asked). EHC plans, care
    leavers, under-18s and objections keep the case with the LA, whose queue shows the request."""
    if decision.refer and decision.refer_on != today:
        return replace(decision, status=domain.REFERRED_TO_NCS, reason="asked_for_help", refer_on=today)
    return decision
