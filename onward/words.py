"""People's words on the pages: LA names, dates as "27 August 2008", times in Europe/London."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from onward.la_data import local_authorities

LONDON = ZoneInfo("Europe/London")


def la_name(code: str | None) -> str:
    """A DfE LA code as the LA's name ("Derby"); an unknown code is shown as it is."""
    la = local_authorities().get(code or "")
    return la.name if la else (code or "")


def long_date(value) -> str:
    """27 August 2008 (GOV.UK style); accepts a date, a datetime or an ISO string; '' for nothing."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = _london(value).date()
    return f"{value.day} {value:%B %Y}"


def _london(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(LONDON)


def london_time(value) -> str:
    """27 August 2026 at 4:05pm, in Europe/London (BST or GMT as it was then)."""
    if not value:
        return ""
    moment = _london(datetime.fromisoformat(value) if isinstance(value, str) else value)
    hour = moment.hour % 12 or 12
    return f"{long_date(moment)} at {hour}:{moment:%M}{'am' if moment.hour < 12 else 'pm'}"


# Timeline entries in words: each kind's title, and each detail's label (None: not shown).
TIMELINE_TITLES = {
    "opened": "Case opened", "status_changed": "Status changed", "consent_recorded": "Consent recorded",
    "referral_requested": "Referred to the National Careers Service", "referral_withdrawn": "Referral withdrawn",
    "ncs_outcome": "Outcome from the National Careers Service", "contact": "Contact", "activity_set": "Activity recorded",
    "transferred": "Moved to another LA", "merged": "Merged with another record", "note": "Note",
    "assigned": "Assigned", "unassigned": "Unassigned", "task_added": "Follow-up task added",
    "task_done": "Follow-up task done", "handoff_updated": "Details for the National Careers Service",
    "received": "Referral received", "claimed": "Claimed", "outcome": "Outcome", "withdrawn": "Withdrawn by the LA",
    "return_undone": "Return to the LA undone", "confirmation_overdue": "Intended destination not confirmed in time",
    "message_not_sent": "Message to the young person not sent",
}
DETAIL_LABELS = {
    "from": "From", "to": "To", "reason": "Reason", "activity_code": "Activity", "kept_activity": "LA's activity kept",
    "intended_activity": "Intended activity", "method": "How", "outcome": "What happened", "note": "Note",
    "share_with_ncs": "Consent to share with the NCS", "source": "Given by", "ncs_area": "Referred to",
    "provider": "Provider", "start_date": "Start date", "review_date": "Review date", "due_on": "Due",
    "task": "Task", "to_la": "To", "responsible_la": "From", "wants": "What they want", "best_time": "Best time",
    "best_channel": "Best way", "access_needs": "Access or language needs", "contact_notes": "Contact notes",
    "share_notes": "Notes may be shared", "officer_contact": "Officer's contact", "failed_attempts": "Attempts so far",
    "status": "Status", "into_person": None, "referral_id": None, "event_type": None, "trace_id": None,
    "la_review": None, "counted": "Counts as an attempt",
}
ACTORS = {"routing": "Onward (automatic)", "scheduler": "Onward (scheduled)", "sweep": "Onward (scheduled)",
          "la": "The LA", "ncs": "National Careers Service"}
STATUS_KEYS = frozenset({"from", "to", "status", "method", "outcome", "source", "best_channel"})


def timeline_title(kind: str) -> str:
    return TIMELINE_TITLES.get(kind) or kind.replace("_", " ").capitalize()


def timeline_actor(actor: str | None) -> str:
    return ACTORS.get(actor or "", actor or "")


def timeline_details(entry: dict, activity_label, reason_words, words) -> list[tuple[str, str]]:
    """(label, text) for each detail of a timeline entry worth showing, codes and dates in words."""
    out = []
    order = {k: i for i, k in enumerate(DETAIL_LABELS)}
    for key, value in sorted(entry.items(), key=lambda kv: order.get(kv[0], len(order))):
        if key in ("at", "kind", "actor") or value in (None, "", [], {}):
            continue
        label = DETAIL_LABELS.get(key, key.replace("_", " ").capitalize())
        if label is None:
            continue
        if key in ("activity_code", "kept_activity", "intended_activity"):
            text = activity_label(value)
        elif key in ("to_la", "responsible_la"):
            text = la_name(value)
        elif key == "ncs_area":
            text = f"{value} National Careers Service"
        elif isinstance(value, bool):
            text = "Yes" if value else "No"
        elif key.endswith("date") or key == "due_on":
            text = long_date(value)
        elif key == "reason":
            text = reason_words(value)
        elif key in STATUS_KEYS:
            text = words(value)
        else:
            text = str(value)
        out.append((label, text))
    return out
