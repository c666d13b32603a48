"""la_tracker's SQL for the NCCIS return: history as at a period end, the LA's settings and currency table."""
from __future__ import annotations

from collections import defaultdict
from datetime import date

import asyncpg

DEFAULT_SETTINGS = {"level_of_need_default": 1, "confirmation_due": "11-01"}


async def people_ever_with(conn: asyncpg.Connection, la: str, period_end: date) -> list[asyncpg.Record]:
    """Everyone who was this LA's responsibility at some time up to the period end."""
    return await conn.fetch(
        "select y.person_key, y.ypid, y.details, y.facts, y.level_of_need, y.merged_into, y.merged_on"
        " from young_people y where y.person_key in"
        " (select person_key from la_history where la = $1 and from_date <= $2) order by y.ypid", la, period_end)


async def histories(conn, keys: list[str], period_end: date) -> tuple[dict, dict]:
    """Per person: activity history rows and LA history rows up to the period end, oldest first."""
    activities, las = defaultdict(list), defaultdict(list)
    for row in await conn.fetch(
            "select person_key, as_of, activity_code, activity_status, ascertained, start_date, review_date,"
            " predicted_end"
            " from activity_history where person_key = any($1) and as_of <= $2 order by person_key, as_of, id",
            keys, period_end):
        activities[row["person_key"]].append(row)
    for row in await conn.fetch(
            "select person_key, la, from_date from la_history where person_key = any($1) and from_date <= $2"
            " order by person_key, from_date, id", keys, period_end):
        las[row["person_key"]].append(row)
    return activities, las


async def merged_away(conn, keys: list[str], period_end: date) -> dict[str, int]:
    """Survivor key -> the local YPID of the record most recently merged into it by the period end."""
    rows = await conn.fetch(
        "select distinct on (merged_into) merged_into, ypid from young_people where merged_into = any($1)"
        " and merged_on <= $2 order by merged_into, merged_on desc, ypid desc", keys, period_end)
    return {r["merged_into"]: r["ypid"] for r in rows}


async def settings_for(conn, la: str) -> dict:
    row = await conn.fetchrow("select level_of_need_default, confirmation_due from la_nccis_settings where la = $1", la)
    return dict(row) if row else dict(DEFAULT_SETTINGS)


async def put_settings(conn, la: str, level_of_need_default: int, confirmation_due: str) -> None:
    await conn.execute(
        "insert into la_nccis_settings (la, level_of_need_default, confirmation_due) values ($1, $2, $3)"
        " on conflict (la) do update set level_of_need_default = $2, confirmation_due = $3, updated_at = now()",
        la, level_of_need_default, confirmation_due)


async def currency_table(conn, la: str) -> dict[str, str]:
    """The LA's own currency rules (codes it has not changed are absent: the suppliers' defaults apply)."""
    rows = await conn.fetch("select activity_code, rule from la_currency where la = $1", la)
    return {r["activity_code"]: r["rule"] for r in rows}


async def put_currency(conn, la: str, rules: dict[str, str]) -> None:
    await conn.executemany(
        "insert into la_currency (la, activity_code, rule) values ($1, $2, $3)"
        " on conflict (la, activity_code) do update set rule = $3, updated_at = now()",
        [(la, code, rule) for code, rule in rules.items()])


async def set_level_of_need(conn, person_key: str, level: int | None) -> None:
    await conn.execute("update young_people set level_of_need = $2, updated_at = now() where person_key = $1",
                       person_key, level)


async def set_predicted_end(conn, person_key: str, predicted_end: date | None) -> None:
    await conn.execute("update young_people set activity_predicted_end = $2 where person_key = $1",
                       person_key, predicted_end)


async def cases_by_person(conn, keys: list[str], la: str) -> dict[str, str]:
    """Person key -> this LA's case id (the page links each breach to the case where it can be fixed)."""
    rows = await conn.fetch("select person_key, case_id from cases where person_key = any($1) and responsible_la = $2",
                            keys, la)
    return {r["person_key"]: str(r["case_id"]) for r in rows}
