"""The NCCIS return, its check, the LA's NCCIS settings and a young person's level of need: for the
JSON API (api_nccis.py) and the pages (web.py, web_nccis.py) alike. LA staff act for their own LA; an
admin names one. Every return built is an audited read of the personal data it carries."""
from __future__ import annotations

from datetime import date
from uuid import UUID

from onward.audit import record_read
from onward.auth import Principal
from services.la_tracker import nccis_export, nccis_return, store, store_nccis
from services.la_tracker.currency import default_table
from services.la_tracker.queries import la_of, own_case

# The personal data a monthly return carries, as the audit records it.
RETURN_FIELDS = ("given_name", "family_name", "date_of_birth", "address_lines", "home_postcode", "upn", "uln",
                 "gender", "ethnicity", "send", "characteristics", "activity")
# A return's period end is a date of this century (year 1 would overflow the return's date arithmetic).
PERIOD_ENDS = (date(2000, 1, 1), date(2099, 12, 31))


async def build_return(pool, who: Principal, la: str | None, period_end: date, action: str, *, ids, env):
    chosen = la_of(who, la)
    async with pool.acquire() as conn:
        ret = await nccis_export.build(conn, chosen, period_end, ids=ids, env=env)
        await record_read(conn, who, "young_person", [r.person_key for r in ret.records], RETURN_FIELDS,
                          action=action)
    return ret


async def return_file(pool, who: Principal, la: str | None, period_end: date, fmt: str, *, ids, env,
                      today: date) -> tuple[str, str, str]:
    """The LA's monthly return as at `period_end` as XML or CSV: (text, media type, file name)."""
    ret = await build_return(pool, who, la, period_end, "nccis_return", ids=ids, env=env)
    name = f"nccis-{ret.la}-{ret.period_end.isoformat()}.{fmt}"
    if fmt == "xml":
        return ret.xml(today), "application/xml", name
    return nccis_return.to_csv(ret.records), "text/csv", name


async def check(pool, who: Principal, la: str | None, period_end: date, *, ids, env, today: date) -> dict:
    """The MIR error rules run on the return for the period: counts per priority, then each breach."""
    ret = await build_return(pool, who, la, period_end, "nccis_check", ids=ids, env=env)
    async with pool.acquire() as conn:
        return await nccis_export.check(conn, ret, today)


async def get_settings(pool, who: Principal, la: str | None) -> dict:
    """The LA's level-of-need default, intended-destination confirmation date (MM-DD) and currency table."""
    chosen = la_of(who, la)
    async with pool.acquire() as conn:
        own = await store_nccis.currency_table(conn, chosen)
        return {"la": chosen, **await store_nccis.settings_for(conn, chosen), "currency": default_table() | own}


async def put_settings(pool, who: Principal, la: str | None, body) -> dict:
    chosen = la_of(who, la)
    async with pool.acquire() as conn, conn.transaction():
        await store_nccis.put_settings(conn, chosen, body.level_of_need_default, body.confirmation_due)
        await store_nccis.put_currency(conn, chosen, body.currency)
    return await get_settings(pool, who, la)


async def set_level_of_need(pool, case_id: UUID, who: Principal, level: int | None) -> dict:
    """LevelOfNeedCode (1 universal, 2 targeted, 3 specialist); None returns the person to the LA default."""
    async with pool.acquire() as conn, conn.transaction():
        case = await own_case(conn, case_id, who, for_update=True)
        await store_nccis.set_level_of_need(conn, case["person_key"], level)
        await store.add_timeline(conn, case_id, "level_of_need_set", who.sub, {"level_of_need": level})
    return {"case_id": str(case_id), "level_of_need": level}
