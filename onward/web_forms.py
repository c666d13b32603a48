"""What a person submits on a page: form fields and GOV.UK date inputs read, errors named in plain English,
and only same-site redirects after sign-in."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from fastapi import HTTPException
from fastapi.responses import RedirectResponse
from pydantic import ValidationError


def form_errors(exc: ValidationError) -> dict[str, str]:
    """Field name -> a message a person can act on, in GOV.UK style."""
    out: dict[str, str] = {}
    for err in exc.errors():
        name = ".".join(str(p) for p in err.get("loc", ())) or "form"
        if name in out:
            continue
        msg = err.get("msg", "is not valid").removeprefix("Value error, ")
        label = FIELD_LABELS.get(name, name.replace("_", " ").capitalize())
        kind = err.get("type", "")
        if kind in ("missing", "literal_error", "enum"):
            msg = f"Select {label.lower()}" if name in SELECTED else f"Enter {label.lower()}"
        elif kind.startswith("date") or kind.startswith("datetime"):
            msg = f"{label} must be a real date, for example 27 8 2026"
        elif kind.startswith("int") or kind.startswith("float"):
            msg = f"{label} must be a whole number"
        elif kind == "string_too_long":
            msg = f"{label} must be {err.get('ctx', {}).get('max_length')} characters or fewer"
        elif kind == "string_too_short":
            msg = f"Enter {label.lower()}"
        out[name] = msg[:1].upper() + msg[1:]
    return out


SELECTED = frozenset({"method", "outcome", "activity_code", "share_with_ncs", "source", "role", "scope", "decision",
                      "best_channel", "assignee"})
FIELD_LABELS = {"due_on": "Due date", "description": "What needs doing", "text": "The note", "wants": "What they want",
                "best_time": "Best time", "provider": "Provider", "assignee": "Who to assign",
                "contact_notes": "Contact notes", "access_needs": "Access or language needs", "note": "Note",
                "q": "Search", "priority": "Priority", "page": "Page",
                "method": "How you contacted them", "outcome": "The outcome", "activity_code": "An activity",
                "share_with_ncs": "Whether they consent", "source": "Who gave consent", "role": "A role",
                "scope": "An area", "decision": "A decision", "start_date": "Start date",
                "review_date": "Review date", "period_end": "Period end"}


def form_data(form, *names: str) -> dict[str, Any]:
    """The named fields of a submitted form; empty strings become None (not given)."""
    out = {}
    for name in names:
        value = form.get(name)
        if value is None and f"{name}-day" in form:
            value = date_from_parts(*(form.get(f"{name}-{p}") for p in ("day", "month", "year")))
        if isinstance(value, str):
            value = value.strip()
        out[name] = value if value not in ("", None) else None
    return out


def date_from_parts(day, month, year) -> str | None:
    """A GOV.UK date input's three boxes as YYYY-MM-DD (None when all are empty); a date that does
    not exist stays malformed, so validation says which field is wrong."""
    parts = [(p or "").strip() for p in (day, month, year)]
    if not any(parts):
        return None
    d, m, y = parts
    return f"{y:0>4}-{m:0>2}-{d:0>2}" if all(p.isascii() and p.isdigit() for p in parts) else f"{y}-{m}-{d}!"


def query_data(params, *names: str) -> dict[str, Any]:
    """Filters from a query string: only the ones given (so the model's defaults apply to the rest)."""
    return {k: v for k, v in form_data(params, *names).items() if v is not None}


def query_filters(params, model, status_choices) -> tuple[Any, dict[str, str]]:
    """A list page's filters from its query string as `model`, with a message for each bad one (which is
    then dropped, so the page still shows): any field the model refuses, and a status not among
    `status_choices`."""
    try:
        filters, errors = model.model_validate(query_data(params, *model.model_fields)), {}
    except ValidationError as exc:
        filters, errors = model(), form_errors(exc)
    if filters.status and filters.status not in status_choices:
        errors["status"], filters.status = "Select a status from the list", None
    return filters, errors


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths (no scheme, no host, no '//') are followed after sign-in."""
    if not target:
        return default
    parts = urlsplit(target)
    # Browsers read a backslash as a slash, so "/\\host" would leave the site too.
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def ticked_ids(form, name: str, what: str) -> list[UUID]:
    """The rows ticked in a list for a bulk action: at least one, each a real id (else 409 in words)."""
    ids = [v for v in form.getlist(name) if isinstance(v, str)]
    if not ids:
        raise HTTPException(409, f"Select at least one {what} to assign.")
    try:
        return [UUID(i) for i in ids]
    except ValueError:
        raise HTTPException(409, f"Select the {what}s again: the list had changed.") from None


def back_to_list(form, default: str, done: str) -> RedirectResponse:
    """After a bulk action: back to the list page the form came from (same site only), saying what was done."""
    back = safe_next(form.get("back") if isinstance(form.get("back"), str) else None, default)
    return RedirectResponse(back + ("&" if "?" in back else "?") + f"done={done}", status_code=303)
