"""The LA's work list: which cases a list shows (search, open cases, "My cases"), what each row says
(name, due or review date, last contact, assigned worker, returned by the NCS) and the CSV export.

Search (`q`, docs/contracts.md December 2026): any part of the given or family name (every word must match
some part), a whole UPN or ULN, or a date of birth as YYYY-MM-DD.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date

from onward.listing import Query as Where
from services.la_tracker import domain
from services.la_tracker.domain import normalise_name

UPN = re.compile(r"[A-Za-z][0-9]{11}[0-9A-Za-z]")
ULN = re.compile(r"[0-9]{10}")
DOB = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Returned by the NCS first, then priority (api.py adds case_id to break ties). The index
# cases_open_worklist_order (migration 076) holds open cases in exactly this order per LA, so a page of a
# big LA's open cases is read from the index, not sorted.
WORKLIST_ORDER = "(returned_at is null), priority"
OPEN_CASES = f"status not in ('{domain.CLOSED}', '{domain.TRANSFERRED}')"  # a literal: it matches the partial indexes
# Each row's name, review date and next task: joined to the page's rows only (see fetch_page).
ROW_EXTRA = (
    " left join lateral (select y.details->>'given_name' as given_name, y.details->>'family_name' as family_name,"
    " y.activity_review, (select min(t.due_on) from case_tasks t where t.case_id = cases.case_id"
    " and t.done_at is null) as next_task_on from young_people y where y.person_key = cases.person_key) yp on true")
ROW_COLUMNS = ", yp.given_name, yp.family_name, yp.activity_review, yp.next_task_on"


def parse_search(q: str) -> tuple[str, object]:
    """What a search box entry means: ('dob', date), ('upn', str), ('uln', str) or ('name', [parts])."""
    text = q.strip()
    if DOB.fullmatch(text):
        return "dob", date.fromisoformat(text)  # ValueError for 2008-02-30: the caller's 422
    if ULN.fullmatch(text):
        return "uln", text
    if UPN.fullmatch(text):
        return "upn", text.upper()
    parts = [p.replace("\\", "").replace("%", "").replace("_", "") for p in normalise_name(text).split()]
    return "name", [p for p in parts if p]


def add_search(where: Where, q: str) -> None:
    kind, value = parse_search(q)
    people = "person_key in (select person_key from young_people where {cond})"
    if kind == "name":
        for part in value or [""]:
            where.where(people.format(cond="given_norm || ' ' || family_norm like '%' || {} || '%'"), part)
    else:
        where.where(people.format(cond=f"{kind} = {{}}"), value)


def add_view(where: Where, status: str | None, assigned: str | None, who_sub: str) -> None:
    """`status=open` means every open status; `assigned=me` the caller's cases, `none` the unassigned."""
    if status == "open":
        where.where(OPEN_CASES)
    elif status is not None:
        where.where("status = {}", status)
    if assigned == "me":
        where.where("assigned_to = {}", who_sub)
    elif assigned == "none":
        where.where("assigned_to is null")
    elif assigned:
        where.where("assigned_to = {}", assigned)


def due_or_review(row: dict) -> str | None:
    """The soonest date the case needs looking at: confirmation due, activity review or a follow-up task."""
    dates = [d for d in (row.get("due_on"), row.get("activity_review"), row.get("next_task_on")) if d]
    return min(str(d)[:10] for d in dates) if dates else None


CSV_COLUMNS = ("case_id", "given_name", "family_name", "status", "reason", "priority", "due_or_review",
               "last_contact_at", "assigned_name", "returned_by_ncs", "referral_status", "opened_at")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A spreadsheet never runs a cell as a formula: text starting = + - @ tab or CR gets a leading '."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        values = {**r, "due_or_review": due_or_review(r), "returned_by_ncs": "yes" if r.get("returned_at") else "",
                  "reason": domain.reason_text(r.get("reason"))}
        writer.writerow([safe_cell(values.get(c)) for c in CSV_COLUMNS])
    return out.getvalue()


async def fetch_page(conn, columns: str, where: Where, order: str, page_no: int, page_size: int) -> dict:
    """One page of the list with each row's name, review date and next task; the total counts every match.
    The page's cases are chosen first (filtered, ordered and limited on `cases` alone), and only those
    rows are joined to their young person and tasks: a big LA's 20,000 open cases are never all joined."""
    total = await conn.fetchval(f"select count(*) from cases{where.where_sql()}", *where.params)
    rows = await conn.fetch(
        f"select {columns}{ROW_COLUMNS} from (select * from cases{where.where_sql()}{order}"
        f" limit {int(page_size)} offset {int((page_no - 1) * page_size)}) cases{ROW_EXTRA}{order}", *where.params)
    return {"items": [dict(r) for r in rows], "total": total, "page": page_no, "page_size": page_size}


async def fetch_all(conn, columns: str, where: Where, order: str, limit: int = 100_000) -> list[dict]:
    rows = await conn.fetch(f"select {columns}{ROW_COLUMNS} from cases{ROW_EXTRA}{where.where_sql()}{order}"
                            f" limit {int(limit)}", *where.params)
    return [dict(r) for r in rows]
