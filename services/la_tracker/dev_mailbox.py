"""The development mailbox: messages the development sender kept instead of sending (onward/notify.py).

`/dev/messages` (a page) and `/dev/messages.json` (a list of {"to", "channel", "body", "link",
"sent_at"}, newest first), so that people and tests can open a young person's link. Both answer 404
in production, where messages go through GOV.UK Notify and nothing is kept.
"""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from onward import web
from services.la_tracker import store_you

router = APIRouter(include_in_schema=False)


async def _messages(request: Request) -> list[dict]:
    if request.app.state.settings.env == "production":
        raise HTTPException(404, "page not found")
    async with request.app.state.pool.acquire() as conn:
        rows = await store_you.dev_messages(conn)
    return [{"to": r["to_address"], "channel": r["channel"], "body": r["body"], "link": r["link"],
             "sent_at": r["sent_at"].isoformat()} for r in rows]


@router.get("/dev/messages.json")
async def messages_json(request: Request) -> list[dict]:
    return await _messages(request)


@router.get("/dev/messages")
async def messages_page(request: Request) -> Response:
    return web.render(request, "dev_messages.html", title="Messages to young people", messages=await _messages(request))
