"""Request limits every service applies: body size, and rate limits per client and per account.

- Body size: refused by `Content-Length` before anything is read, and by the bytes actually streamed
  (a chunked body without a length), as soon as they pass the limit: 413, never a parse of the rest.
  Multipart uploads have their own, larger limit (school_exit's import files).
- Rate limits: a fixed one-minute window per key, in each process's memory (each replica counts on its
  own, so a deployment of n replicas allows up to n times the figure). Over the limit: 429 with
  `Retry-After` (seconds until the window ends). Sign-in counts every attempt, per client and per
  account; bearer tokens count only failed checks, per client; exports count per client and per account.
"""
from __future__ import annotations

import json
import math
import time
from collections.abc import Callable

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

WINDOW_SECONDS = 60.0
_MAX_KEYS = 100_000  # past this many keys, windows that have ended are dropped


class RateLimit:
    """At most `per_minute` hits per key in each one-minute window (0: no limit)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._windows: dict[str, tuple[float, int]] = {}

    def retry_after(self, key: str) -> int | None:
        """Seconds to wait when `key` has used its window up, else None."""
        if not self.per_minute:
            return None
        start, count = self._windows.get(key, (0.0, 0))
        left = start + WINDOW_SECONDS - self.clock()
        return max(1, math.ceil(left)) if left > 0 and count >= self.per_minute else None

    def hit(self, key: str) -> None:
        if not self.per_minute:
            return
        now = self.clock()
        start, count = self._windows.get(key, (now, 0))
        if now - start >= WINDOW_SECONDS:
            start, count = now, 0
        if len(self._windows) >= _MAX_KEYS:
            self._windows = {k: v for k, v in self._windows.items() if now - v[0] < WINDOW_SECONDS}
        self._windows[key] = (start, count + 1)

    def check(self, key: str, what: str) -> None:
        """Raise 429 when `key` is over its limit; otherwise count this attempt."""
        wait = self.retry_after(key)
        if wait is not None:
            raise too_many(what, wait)
        self.hit(key)


def too_many(what: str, retry_after: int) -> HTTPException:
    return HTTPException(429, f"too many {what}; try again in {retry_after} seconds",
                         headers={"Retry-After": str(retry_after)})


class Limits:
    """One service process's rate limits, from the settings."""

    def __init__(self, settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.sign_in_client = RateLimit(settings.rate_sign_in_per_client, clock)
        self.sign_in_account = RateLimit(settings.rate_sign_in_per_account, clock)
        self.failed_tokens = RateLimit(settings.rate_failed_tokens_per_client, clock)
        self.exports_client = RateLimit(settings.rate_exports_per_client, clock)
        self.exports_account = RateLimit(settings.rate_exports_per_account, clock)


def client_of(request) -> str:
    """The caller's address (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    return request.client.host if request.client else "unknown"


class BodySizeLimit:
    """ASGI middleware: refuse a body over the limit by its Content-Length, or once its streamed bytes
    pass the limit. Then this middleware answers 413 itself, and the endpoint sees the client gone (an
    exception raised from `receive` would reach it wrapped by task groups, as a 400 or a 500)."""

    def __init__(self, app: ASGIApp, json_bytes: int, upload_bytes: int) -> None:
        self.app, self.json_bytes, self.upload_bytes = app, json_bytes, upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or ())
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/")
        limit = self.upload_bytes if multipart else self.json_bytes
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            return await _refuse(send, limit)
        received, started, refused = 0, False, False

        async def counted() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit and not started:
                    refused = True
                    await _refuse(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent; whatever the endpoint answers to the 'disconnect' is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, guarded_send)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"the request body is larger than {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
