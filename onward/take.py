"""Batches from a faust stream without waking up when there is nothing to batch.

faust's `Stream.noack_take(max_, within)` waits `within` seconds for the buffer to fill, then loops,
whether or not anything arrived: with a 5 ms window that is 200 wake-ups a second per agent (each a
couple of tasks and futures in mode's `wait_first`), measured at 0.08-0.1 of a core per idle worker
and most of a worker's CPU at 200 events/s. This is the same generator (faust-streaming 0.15.3's
`noack_take`, same buffer, same back-pressure, same manual acks) with one change: while the buffer
is empty it waits for the first event without a timeout, and only then gives its company `within`
seconds. A lone event still waits at most `within`; an idle worker sleeps.

It relies on faust's private attributes (`_active_agens`, `_enable_passive`, `_processors`), so an
upgrade of faust-streaming is a deliberate act: `COPIED_FROM` holds the SHA-256 of the source this
was copied from, and tests/unit/test_take.py fails when the installed source differs.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import faust
from mode.utils.futures import notify

# What this module copies, as installed when it was last checked (`inspect.getsource`, SHA-256).
COPIED_FROM = {
    "version": "0.15.3",
    "faust.streams.Stream.noack_take": "f2cc2dbfc162d2006c94361c0ed68535c95484020849eb0d4210c1f52c4c430a",
    "faust.streams._tracks_buffer_agen": "bf38f607c6ff40f66f1f71ee8b38a05108aaed529f3a567643bd9c3c60867da9",
}


def noack_batches(stream: faust.StreamT, max_: int, within: float) -> AsyncGenerator[list[Any], None]:
    """Lists of up to `max_` events (not values); the caller acks each after its effect committed."""
    agen = _batches(stream, max_, within)
    stream._active_agens.add(agen)  # as faust's own take: closed deterministically on stream stop
    return agen


async def _batches(stream: Any, max_: int, within: float) -> AsyncGenerator[list[Any], None]:
    buffer: list[Any] = []
    buffer_started = asyncio.Event()   # the one addition: set by the first event into an empty buffer
    buffer_full = asyncio.Event()
    buffer_consumed = asyncio.Event()
    buffer_consuming: asyncio.Future | None = None
    enable_acks = stream.enable_acks
    channel_it = stream.channel.__aiter__()

    async def add_to_buffer(value: Any) -> Any:
        nonlocal buffer_consuming
        try:
            if buffer_consuming is not None:  # the consumer is reading the buffer: wait until it is done
                try:
                    await buffer_consuming
                finally:
                    buffer_consuming = None
            event = stream.current_event
            if event is None:
                raise RuntimeError("take buffer found current_event is None")
            buffer.append(event)
            buffer_started.set()
            if len(buffer) >= max_:
                buffer_full.set()
                buffer_consumed.clear()
                await stream.wait(buffer_consumed)  # never more than max_ in a batch
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            stream.log.exception("Error adding to take buffer: %r", exc)
            await stream.crash(exc)
        return value

    stream.enable_acks = False  # acks are the caller's, after its effect committed
    stream.add_processor(add_to_buffer)
    stream._enable_passive(channel_it)
    try:
        while not stream.should_stop:
            if not buffer:
                await stream.wait_for_stopped(buffer_started)  # no timeout: nothing to wait for yet
            await stream.wait_for_stopped(buffer_full, timeout=within)
            if buffer:
                buffer_consuming = stream.loop.create_future()
                try:
                    yield list(buffer)
                finally:
                    buffer.clear()
                    buffer_started.clear()
                    notify(buffer_consuming)
                    buffer_full.clear()
                    buffer_consumed.set()
    finally:
        stream.enable_acks = enable_acks
        stream._processors.remove(add_to_buffer)
