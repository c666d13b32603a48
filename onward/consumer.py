"""Idempotent consumer: an event's effect and its `(consumer, event_id)` row commit together.

Delivering an event twice (redelivery after a crash, a replayed topic, a duplicate publish) finds
the row and does nothing. Errors split in two: infrastructure errors are retried until they pass
(the event is never acked meanwhile), anything else makes the record poison and sends it to the DLQ.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from schemas.envelope import Envelope

log = logging.getLogger(__name__)
Effect = Callable[[asyncpg.Connection, Envelope], Awaitable[None]]

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, cannot connect now
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    # A table or grant missing during a deploy (migration not yet applied, role not yet granted) is fixed
    # by the operator, not by the event: retry it rather than dead-letter every event meanwhile.
    asyncpg.exceptions.UndefinedTableError,
    asyncpg.exceptions.InsufficientPrivilegeError,
)


class Rejected(Exception):
    """A well-formed event that the rules refuse (e.g. a referral without consent): it goes to the DLQ."""


async def process_once(pool: asyncpg.Pool, consumer: str, event: Envelope, effect: Effect) -> bool:
    """Run `effect` exactly once per (consumer, event_id); return False for a duplicate."""
    async with pool.acquire() as conn, conn.transaction():
        return await _apply(conn, consumer, event, effect)


async def _apply(conn: asyncpg.Connection, consumer: str, event: Envelope, effect: Effect) -> bool:
    fresh = await conn.fetchval(
        "insert into processed_events (consumer, event_id) values ($1, $2) on conflict do nothing returning true",
        consumer, event.event_id)
    if fresh:
        await effect(conn, event)
    return bool(fresh)


BatchEffect = Callable[[asyncpg.Connection, list[Envelope]], Awaitable[list[Envelope]]]


async def _claim(conn: asyncpg.Connection, consumer: str, events: list[Envelope]) -> list[Envelope]:
    """Record the batch's events as processed in one statement; return the fresh ones, first occurrence, in order."""
    fresh = {r["event_id"] for r in await conn.fetch(
        "insert into processed_events (consumer, event_id) select $1, unnest($2::uuid[])"
        " on conflict do nothing returning event_id", consumer, [e.event_id for e in events])}
    out = []
    for e in events:
        if e.event_id in fresh:
            out.append(e)
            fresh.discard(e.event_id)
    return out


async def process_batch(pool: asyncpg.Pool, consumer: str, events: list[Envelope], effect: Effect,
                        batch_effect: BatchEffect | None = None) -> tuple[int, list[tuple[Envelope, Exception]]]:
    """Apply a batch of events in one transaction (one commit, one fsync), each once.

    Optimistic first: the whole batch in one transaction. If an event fails for a non-transient
    reason, that transaction rolls back and the batch runs again with a savepoint per event, so the
    failing event is rolled back alone and returned for the DLQ while the rest commit. A transient
    error aborts the batch (the caller retries it). Returns (events applied, failures).

    `batch_effect`, when given, applies in set-based SQL what it can of the fresh events and returns
    the rest, in order, for `effect` one by one (the savepoint fallback uses `effect` alone).
    """
    try:
        async with pool.acquire() as conn, conn.transaction():
            if batch_effect is None:
                return sum([await _apply(conn, consumer, e, effect) for e in events]), []
            fresh = await _claim(conn, consumer, events)
            for event in await batch_effect(conn, fresh):
                await effect(conn, event)
            return len(fresh), []
    except TRANSIENT_ERRORS:
        raise
    except Exception as exc:  # some event is poison: find it with savepoints
        log.warning("batch rolled back; applying its events one by one", extra={
            "consumer": consumer, "events": len(events), "error": type(exc).__name__})
    applied, failures = 0, []
    async with pool.acquire() as conn, conn.transaction():
        for event in events:
            try:
                async with conn.transaction():  # savepoint
                    applied += await _apply(conn, consumer, event, effect)
            except TRANSIENT_ERRORS:
                raise
            except Exception as exc:
                failures.append((event, exc))
    return applied, failures
