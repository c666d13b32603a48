"""la_tracker HTTP API for the NCCIS return: the file (XML, CSV), its check, the LA's NCCIS settings and
currency table, and a young person's level of need. LA staff act for their own LA; an admin names one."""
from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import AfterValidator, Field

from onward.audit import record_read
from onward.auth import Principal, require
from onward.settings import Settings
from schemas import nccis
from services.la_tracker import nccis_export, nccis_ids, nccis_return, store, store_nccis
from services.la_tracker.currency import default_table, validate_rule
from services.la_tracker.api_admin import _la_of
from services.la_tracker.wire import Body

router = APIRouter(prefix="/v1")
la_staff = require("la_staff", "admin")
# The personal data a monthly return carries, as the audit records it.
RETURN_FIELDS = ("given_name", "family_name", "date_of_birth", "address_lines", "home_postcode", "upn", "uln",
                 "gender", "ethnicity", "send", "characteristics", "activity")
# A return's period end is a date of this century (year 1 would overflow the return's date arithmetic).
PERIOD_ENDS = (date(2000, 1, 1), date(2099, 12, 31))
PeriodEnd = Annotated[date, Query(ge=PERIOD_ENDS[0], le=PERIOD_ENDS[1])]
MonthDay = Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]


class NccisSettingsIn(Body):
    level_of_need_default: Annotated[int, Field(ge=1, le=3)] = 1
    confirmation_due: MonthDay = "11-01"
    currency: dict[Annotated[str, AfterValidator(nccis.validate_activity_code)],
                   Annotated[str, AfterValidator(validate_rule)]] = {}


class LevelOfNeedIn(Body):
    level_of_need: Annotated[int, Field(ge=1, le=3)] | None


async def build_return(request: Request, who: Principal, la: str | None, period_end: date, action: str):
    chosen = _la_of(who, la)
    async with request.app.state.pool.acquire() as conn:
        ret = await nccis_export.build(conn, chosen, period_end, ids=request.app.state.nccis_ids,
                                       env=request.app.state.env)
        await record_read(conn, who, "young_person", [r.person_key for r in ret.records], RETURN_FIELDS,
                          action=action)
    return ret


def _attachment(ret, ext: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="nccis-{ret.la}-{ret.period_end.isoformat()}.{ext}"'}


@router.get("/exports/nccis.xml")
async def nccis_xml(request: Request, period_end: PeriodEnd, who: Principal = Depends(la_staff),
                    la: str | None = None) -> Response:
    """The LA's monthly return as at `period_end` (the same file whenever it is produced, bar DateOfSend)."""
    ret = await build_return(request, who, la, period_end, "nccis_return")
    return Response(ret.xml(request.app.state.clock()), media_type="application/xml", headers=_attachment(ret, "xml"))


@router.get("/exports/nccis.csv")
async def nccis_csv(request: Request, period_end: PeriodEnd, who: Principal = Depends(la_staff),
                    la: str | None = None) -> Response:
    """The same return as CSV; a cell a spreadsheet would run as a formula starts with a quote."""
    ret = await build_return(request, who, la, period_end, "nccis_return")
    return Response(nccis_return.to_csv(ret.records), media_type="text/csv", headers=_attachment(ret, "csv"))


@router.get("/exports/nccis/check")
async def nccis_check(request: Request, period_end: PeriodEnd, who: Principal = Depends(la_staff),
                      la: str | None = None) -> dict:
    """The MIR error rules run on the return for the period: counts per priority, then each breach."""
    ret = await build_return(request, who, la, period_end, "nccis_check")
    async with request.app.state.pool.acquire() as conn:
        return await nccis_export.check(conn, ret, request.app.state.clock())


@router.get("/nccis/settings")
async def get_settings(request: Request, who: Principal = Depends(la_staff), la: str | None = None) -> dict:
    """The LA's level-of-need default, intended-destination confirmation date (MM-DD) and currency table."""
    chosen = _la_of(who, la)
    async with request.app.state.pool.acquire() as conn:
        own = await store_nccis.currency_table(conn, chosen)
        return {"la": chosen, **await store_nccis.settings_for(conn, chosen),
                "currency": default_table() | own}


@router.put("/nccis/settings")
async def put_settings(request: Request, body: NccisSettingsIn, who: Principal = Depends(la_staff),
                       la: str | None = None) -> dict:
    chosen = _la_of(who, la)
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        await store_nccis.put_settings(conn, chosen, body.level_of_need_default, body.confirmation_due)
        await store_nccis.put_currency(conn, chosen, body.currency)
    return await get_settings(request, who, la)


@router.put("/cases/{case_id}/level-of-need")
async def set_level_of_need(request: Request, case_id: UUID, body: LevelOfNeedIn,
                            who: Principal = Depends(la_staff)) -> dict:
    """LevelOfNeedCode (1 universal, 2 targeted, 3 specialist); null returns the person to the LA default."""
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        case = await store.get_case(conn, case_id, for_update=True)
        if case is None or (who.role == "la_staff" and case["responsible_la"] != who.la):
            raise HTTPException(404, "case not found")
        await store_nccis.set_level_of_need(conn, case["person_key"], body.level_of_need)
        await store.add_timeline(conn, case_id, "level_of_need_set", who.sub, {"level_of_need": body.level_of_need})
    return {"case_id": str(case_id), "level_of_need": body.level_of_need}


def install(app: FastAPI, settings: Settings) -> None:
    """Refuses to start in production without ONWARD_NCCIS_DATABASE_IDS."""
    app.state.nccis_ids = nccis_ids.configured(settings.env, settings.nccis_database_ids)
    app.state.env = settings.env
    app.include_router(router)
