"""Turning what a school sends (JSON, CSV rows, CTF pupils, Kafka records) into validated leavers.

Every rule failure names its field, so a data manager can fix the row.
"""
from __future__ import annotations

from datetime import date

from pydantic import ValidationError

from onward.la_data import local_authorities
from services.school_exit.wire import LeaverIn

Problems = list[dict]


def problems_of(exc: ValidationError) -> Problems:
    return [{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"].removeprefix("Value error, ")}
            for e in exc.errors()]


def validate(raw: object, today: date, own_laestab: str | None = None) -> LeaverIn | Problems:
    """A LeaverIn, or the list of field problems. `own_laestab` restricts a school to its own leavers."""
    try:
        leaver = LeaverIn.model_validate(raw)
    except ValidationError as exc:
        return problems_of(exc)
    return check(leaver, today, own_laestab)


def check(leaver: LeaverIn, today: date, own_laestab: str | None = None) -> LeaverIn | Problems:
    """Rules beyond a field's own shape: dates against today, a known LA, the caller's own school."""
    problems = [{"field": f, "message": m} for f, m in leaver.date_problems(today).items()]
    if leaver.school_laestab[:3] not in local_authorities():
        problems.append({"field": "school_laestab",
                         "message": f"{leaver.school_laestab[:3]} is not the DfE number of an English LA"})
    if own_laestab is not None and leaver.school_laestab != own_laestab:
        problems.append({"field": "school_laestab", "message": "a school may only submit leavers for its own LAESTAB"})
    return problems or leaver
