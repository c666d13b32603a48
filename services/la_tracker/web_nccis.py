"""The "check before you send" page: the MIR's error rules run on the NCCIS return for a period.

Counts per priority come first, then each breach with its rule number, priority and young person,
linking to the case where it can be fixed. It calls the same function as GET /v1/exports/nccis/check.
"""
from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from onward import web
from services.la_tracker import api_nccis
from services.la_tracker.web import who

pages = APIRouter(include_in_schema=False)


@pages.get("/exports/check")
async def check_page(request: Request, period_end: str | None = None, la: str | None = None) -> Response:
    user = who(request)
    default = request.app.state.clock().replace(day=1) - timedelta(days=1)
    try:
        end = date.fromisoformat(period_end) if period_end else default
    except ValueError:
        return web.render(request, "nccis_check.html", status_code=422, title="Check the NCCIS return", result=None,
                          la=la, period_end=period_end, errors={"period_end": "Enter the period end as a real date"})
    result = await api_nccis.nccis_check(request, end, user, la)
    return web.render(request, "nccis_check.html", title="Check the NCCIS return", result=result, la=la,
                      period_end=end.isoformat())


def install(app: FastAPI) -> None:
    app.include_router(pages)
