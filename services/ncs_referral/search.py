"""Search an NCS area's referrals (docs/contracts.md, December 2026): `q` is any part of the given or family
name (every word must match some part), or a date of birth as YYYY-MM-DD. The NCS holds no UPN or ULN."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

DOB = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
NAME_SQL = ("lower(coalesce(handoff->>'given_name', '') || ' ' || coalesce(handoff->>'family_name', ''))"
            " like '%' || {} || '%'")


def name_parts(q: str) -> list[str]:
    text = unicodedata.normalize("NFKC", q).casefold().replace("\u2019", "'")
    return [p for p in (w.replace("\\", "").replace("%", "").replace("_", "") for w in text.split()) if p]


def add_search(where, q: str) -> None:
    """Add `q`'s conditions to a listing query; a DOB that is not a real date raises ValueError."""
    text = q.strip()
    if DOB.fullmatch(text):
        where.where("handoff->>'date_of_birth' = {}", date.fromisoformat(text).isoformat())
        return
    for part in name_parts(text) or [""]:
        where.where(NAME_SQL, part)


def is_valid(q: str) -> bool:
    """A search is at least 2 characters, and a DOB-shaped one is a real date."""
    text = q.strip()
    if not 2 <= len(text) <= 100 or "\x00" in text:
        return False
    try:
        return not DOB.fullmatch(text) or bool(date.fromisoformat(text))
    except ValueError:
        return False
