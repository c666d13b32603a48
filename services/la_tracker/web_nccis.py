"""NCCIS pages: "check before you send" and the LA's NCCIS settings (currency table and defaults).

The check lists counts per priority first, then each breach with its rule number, priority and young
person, linking to the case where it can be fixed. Both pages call the functions the JSON API
calls (services/la_tracker/queries_nccis.py), so the rules, scoping and audit are one implementation.
"""
from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from onward import web
from schemas import nccis
from services.la_tracker import queries_nccis as queries
from services.la_tracker.currency import RULE_LABELS
from services.la_tracker.web import _case_page, who
from services.la_tracker.wire import LevelOfNeedIn, NccisSettingsIn

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
    state = request.app.state
    result = await queries.check(state.pool, user, la, end, ids=state.nccis_ids, env=state.env, today=state.clock())
    return web.render(request, "nccis_check.html", title="Check the NCCIS return", result=result, la=la,
                      period_end=end.isoformat())


def _settings_page(request: Request, settings: dict, status_code: int = 200, errors: dict | None = None,
                   done: bool = False) -> Response:
    rows = [(code, label, settings["currency"].get(code, "")) for code, (label, _) in nccis.ACTIVITY_CODES.items()]
    return web.render(request, "nccis_settings.html", status_code=status_code, title="NCCIS settings",
                      settings=settings, rows=rows, rule_labels=RULE_LABELS, errors=errors or {}, done=done)


@pages.get("/exports/settings")
async def settings_page(request: Request, la: str | None = None) -> Response:
    settings = await queries.get_settings(request.app.state.pool, who(request), la)
    return _settings_page(request, settings, done=request.query_params.get("done") == "1")


@pages.post("/exports/settings")
async def save_settings(request: Request, la: str | None = None) -> Response:
    user = who(request)
    form = await request.form()
    web.check_csrf(request, form)
    names = [f"currency_{code}" for code in nccis.ACTIVITY_CODES]
    data = web.form_data(form, "level_of_need_default", "confirmation_due", *names)
    body = {"level_of_need_default": data["level_of_need_default"], "confirmation_due": data["confirmation_due"],
            "currency": {name[9:]: data[name] for name in names if data[name]}}
    try:
        await queries.put_settings(request.app.state.pool, user, la, NccisSettingsIn.model_validate(body))
    except ValidationError as exc:
        errors = {".".join(str(p) for p in e["loc"]).replace("currency.", "currency_").split(".")[0]:
                  e["msg"].removeprefix("Value error, ") for e in exc.errors()}
        current = await queries.get_settings(request.app.state.pool, user, la)
        shown = {**current, **{k: v for k, v in body.items() if k != "currency" and v}, "currency": {
            **current["currency"], **body["currency"]}}
        return _settings_page(request, shown, status_code=422, errors=errors)
    except HTTPException:
        raise
    return RedirectResponse("/exports/settings?done=1" + (f"&la={la}" if la else ""), status_code=303)


LEVELS = [("", "The LA's default"), ("1", "1 Universal"), ("2", "2 Targeted"), ("3", "3 Specialist")]


@pages.get("/cases/{case_id}/level-of-need")
async def level_of_need_form(request: Request, case_id: UUID) -> Response:
    return await _case_page(request, case_id, "case_level_of_need.html", title="Level of need", levels=LEVELS,
                            data={})


@pages.post("/cases/{case_id}/level-of-need")
async def level_of_need_submit(request: Request, case_id: UUID) -> Response:
    """LevelOfNeedCode for this young person (an empty choice returns them to the LA's default)."""
    user = who(request)
    form = await request.form()
    web.check_csrf(request, form)
    level = web.form_data(form, "level_of_need")["level_of_need"]
    try:
        body = LevelOfNeedIn.model_validate({"level_of_need": level})
    except ValidationError:
        return await _case_page(request, case_id, "case_level_of_need.html", status_code=422, title="Level of need",
                                levels=LEVELS, data={}, errors={"level_of_need": "Select a level of need"})
    await queries.set_level_of_need(request.app.state.pool, case_id, user, body.level_of_need)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


def install(app: FastAPI) -> None:
    app.include_router(pages)
