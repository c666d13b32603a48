"""la_tracker HTTP API for the NCCIS return: the file (XML, CSV), its check, the LA's NCCIS settings and
currency table, and a young person's level of need (services/la_tracker/queries_nccis.py)."""
from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response

from onward.auth import Principal
from onward.http import download
from onward.settings import Settings
from services.la_tracker import nccis_ids, queries_nccis as queries
from services.la_tracker.queries import la_staff
from services.la_tracker.wire import LevelOfNeedIn, NccisSettingsIn

router = APIRouter(prefix="/v1")
PeriodEnd = Annotated[date, Query(ge=queries.PERIOD_ENDS[0], le=queries.PERIOD_ENDS[1])]


async def return_file(request: Request, who: Principal, la: str | None, period_end: date, fmt: str) -> Response:
    """The return as a file to download (the pages' link too)."""
    state = request.app.state
    text, media_type, name = await queries.return_file(state.pool, who, la, period_end, fmt, ids=state.nccis_ids,
                                                       env=state.env, today=state.clock())
    return download(text, media_type, name)


@router.get("/exports/nccis.xml")
async def nccis_xml(request: Request, period_end: PeriodEnd, who: Principal = Depends(la_staff),
                    la: str | None = None) -> Response:
    """The LA's monthly return as at `period_end` (the same file whenever it is produced, bar DateOfSend)."""
    return await return_file(request, who, la, period_end, "xml")


@router.get("/exports/nccis.csv")
async def nccis_csv(request: Request, period_end: PeriodEnd, who: Principal = Depends(la_staff),
                    la: str | None = None) -> Response:
    """The same return as CSV; a cell a spreadsheet would run as a formula starts with a quote."""
    return await return_file(request, who, la, period_end, "csv")


@router.get("/exports/nccis/check")
async def nccis_check(request: Request, period_end: PeriodEnd, who: Principal = Depends(la_staff),
                      la: str | None = None) -> dict:
    """The MIR error rules run on the return for the period: counts per priority, then each breach."""
    state = request.app.state
    return await queries.check(state.pool, who, la, period_end, ids=state.nccis_ids, env=state.env,
                               today=state.clock())


@router.get("/nccis/settings")
async def get_settings(request: Request, who: Principal = Depends(la_staff), la: str | None = None) -> dict:
    """The LA's level-of-need default, intended-destination confirmation date (MM-DD) and currency table."""
    return await queries.get_settings(request.app.state.pool, who, la)


@router.put("/nccis/settings")
async def put_settings(request: Request, body: NccisSettingsIn, who: Principal = Depends(la_staff),
                       la: str | None = None) -> dict:
    return await queries.put_settings(request.app.state.pool, who, la, body)


@router.put("/cases/{case_id}/level-of-need")
async def set_level_of_need(request: Request, case_id: UUID, body: LevelOfNeedIn,
                            who: Principal = Depends(la_staff)) -> dict:
    """LevelOfNeedCode (1 universal, 2 targeted, 3 specialist); null returns the person to the LA default."""
    return await queries.set_level_of_need(request.app.state.pool, case_id, who, body.level_of_need)


def install(app: FastAPI, settings: Settings) -> None:
    """Refuses to start in production without ONWARD_NCCIS_DATABASE_IDS."""
    app.state.nccis_ids = nccis_ids.configured(settings.env, settings.nccis_database_ids)
    app.state.env = settings.env
    app.include_router(router)
