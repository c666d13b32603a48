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
