"""The LA's side of the young person's pages (issue 17): its reminder schedule."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import Field

from onward.auth import Principal, require
from services.la_tracker import policy, store_you
from services.la_tracker.queries import la_of
from services.la_tracker.wire import Body
from services.la_tracker.young_person import ReminderSchedule

router = APIRouter(prefix="/v1")
la_staff = require("la_staff", "admin")


class ReminderScheduleIn(Body):
    first_reminder_days: Annotated[int, Field(ge=1, le=365)] = 7
    every_days: Annotated[int, Field(ge=1, le=365)] = 30
    stop_after_days: Annotated[int, Field(ge=0, le=730)] = 365


@router.get("/you/reminders")
async def get_reminders(request: Request, la: str | None = None, who: Principal = Depends(la_staff)) -> dict:
    """When young people of the LA are reminded: after `first_reminder_days`, then every `every_days`,
    none after `stop_after_days` (from the first message), and none once they answered."""
    chosen = la_of(who, la)
    async with request.app.state.pool.acquire() as conn:
        s = await store_you.schedule_of(conn, chosen)
    return {"la": chosen, **s.__dict__}


@router.put("/you/reminders")
async def set_reminders(request: Request, body: ReminderScheduleIn, la: str | None = None,
                        who: Principal = Depends(la_staff)) -> dict:
    if not policy.may_change_policy(who):  # the LA's schedule is policy: an LA manager's to change
        raise HTTPException(403, "only an LA manager may change the LA's reminder schedule")
    chosen = la_of(who, la)
    async with request.app.state.pool.acquire() as conn:
        await store_you.set_schedule(conn, chosen, ReminderSchedule(**body.model_dump()))
    return {"la": chosen, **body.model_dump()}
