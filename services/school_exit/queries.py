"""What a school (or an administrator) asks of school_exit and sends to it: called by the JSON API
(api.py) and the pages (web.py) alike, so that scoping (another school's leaver answers 404, so its
existence is not disclosed), the audit of every read and each submission's transaction are one
implementation. Errors are the API's (HTTPException: 404, 413, 422 naming the field or column)."""
from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import HTTPException

from onward.audit import record_read
from onward.auth import Principal
from services.school_exit import ctf, handlers, imports, intake, leaver_csv, store
from services.school_exit.wire import DestinationIn, LeaverIn

MAX_BATCH = 5000
MAX_FILE_BYTES = 20 * 1024 * 1024


def scope(who: Principal) -> str | None:
    """The school whose leavers the caller sees; None for an administrator (every school)."""
    return who.laestab if who.role == "school" else None


async def register(pool, secret: str, leavers: list[LeaverIn], correlation_id: UUID) -> list[handlers.Registered]:
    async with pool.acquire() as conn, conn.transaction():
        return await handlers.register_leavers(conn, leavers, correlation_id=correlation_id, person_key_secret=secret)


async def submit_many(pool, secret: str, items: list, who: Principal, correlation_id: UUID, today: date) -> dict:
    """Validate each item on its own; good ones are accepted together even when others fail."""
    results: list[dict] = []
    good: list[tuple[int, LeaverIn]] = []
    for i, raw in enumerate(items):
        checked = raw if isinstance(raw, (list, LeaverIn)) else intake.validate(raw, today, scope(who))
        if isinstance(checked, list):
            results.append({"index": i, "result": "rejected", "errors": checked})
        else:
            results.append({})
            good.append((i, checked))
    if good:
        registered = await register(pool, secret, [lv for _, lv in good], correlation_id)
        for (i, _), r in zip(good, registered):
            results[i] = {"index": i, "result": r.status, "leaver_id": str(r.leaver_id), "person_key": r.person_key,
                          "onward_status": r.onward_status}
    accepted = len(good)
    return {"accepted": accepted, "rejected": len(items) - accepted, "results": results}


def read_file(data: bytes, laestab: str, leaving_date: date | None) -> list[imports.Row]:
    """The rows of a CSV or a CTF, whichever the file is; `laestab` is the uploading school's."""
    if imports.is_xml(data):
        return ctf.parse(data, laestab, leaving_date)
    return leaver_csv.parse(data, laestab)


async def import_rows(pool, secret: str, who: Principal, laestab: str, data: bytes, leaving_date: date | None,
                      correlation_id: UUID, today: date) -> tuple[dict, list[imports.Row]]:
    """Read a file, validate every row (all of a row's problems, in the file's terms) and register the good
    rows together; the per-row summary and the rows as read."""
    if len(data) > MAX_FILE_BYTES:
        raise HTTPException(413, f"files are limited to {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        rows = read_file(data, laestab, leaving_date)
    except imports.UnreadableFile as exc:
        raise HTTPException(422, [{"field": "file", "message": str(exc)}]) from None
    if len(rows) > MAX_BATCH:
        raise HTTPException(413, f"a file holds at most {MAX_BATCH} leavers; split it")
    items = []
    for row in rows:
        checked = intake.validate(row.leaver, today, laestab)
        problems = row.in_file_terms(checked if isinstance(checked, list) else [])
        items.append(problems or checked)
    summary = await submit_many(pool, secret, items, who, correlation_id, today)
    for row, result in zip(rows, summary["results"]):
        del result["index"]
        result |= {"row": row.number, **({"line": row.line} if row.line else {}),
                   **({"notes": row.notes} if row.notes else {})}
    if rows and rows[0].line:
        summary["lines"] = "line is the file's line number; line 1 is the header row"
    return summary, rows


async def own_leaver(conn, leaver_id: UUID, who: Principal, *, for_update: bool = False):
    """The leaver when the caller's school reported them; else 404."""
    row = await store.get_leaver(conn, leaver_id, for_update=for_update)
    if row is None or (who.role == "school" and row["school_laestab"] != who.laestab):
        raise HTTPException(404, "leaver not found")
    return row


async def put_destination(pool, leaver_id: UUID, destination: DestinationIn, who: Principal,
                          correlation_id: UUID) -> dict:
    async with pool.acquire() as conn, conn.transaction():
        row = await own_leaver(conn, leaver_id, who, for_update=True)
        await handlers.report_destination(conn, row, destination, correlation_id)
    return {"leaver_id": str(leaver_id), "destination": destination.model_dump()}


async def get_leaver(pool, leaver_id: UUID, who: Principal) -> dict:
    """The leaver as reported, their onward status and timeline (an audited read)."""
    async with pool.acquire() as conn:
        row = await own_leaver(conn, leaver_id, who)
        events = await store.timeline(conn, leaver_id)
        await record_read(conn, who, "leaver", [leaver_id], row["body"].keys())
    return {
        "leaver_id": str(row["leaver_id"]), "person_key": row["person_key"], "revision": row["revision"],
        **row["body"],
        "onward_status": row["onward_status"], "onward_status_at": row["onward_status_at"].isoformat(),
        "timeline": [{"at": e["at"].isoformat(), "kind": e["kind"], **e["detail"]} for e in events],
    }
