"""Transactional outbox: `add` writes events with the state change; `OutboxRelay` publishes them.

The relay is the only publisher of domain events. It wakes on Postgres LISTEN/NOTIFY (so a handoff
takes milliseconds) with a slow poll as a fallback, publishes with an idempotent producer
(acks=all), and marks rows published only after Kafka acknowledged them. A crash between the two
republishes the rows; consumers are idempotent by event_id, so that is harmless.
"""
from __future__ import annotations

import asyncio
import logging
import asyncpg
from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Gauge

from onward import telemetry
from onward.db import insert_rows
from schemas.envelope import Envelope

log = logging.getLogger(__name__)
_RELAY_LOCK = 7_362_002  # one active relay per database keeps each person's events in commit order

PUBLISHED = Counter("onward_outbox_published_total", "Outbox events published to Kafka", ["topic"])
BACKLOG = Gauge("onward_outbox_backlog_events", "Outbox rows not yet published")
OLDEST = Gauge("onward_outbox_oldest_unpublished_seconds", "Age of the oldest outbox row not yet published")


def headers_of(event: Envelope) -> dict[str, str]:
    # Ids, type and the trace context (random ids, a timestamp) only: never personal data in headers.
    return {
        "event_type": event.event_type,
        "event_id": str(event.event_id),
        "correlation_id": str(event.correlation_id),
        **telemetry.inject(),
    }


def _row(event: Envelope) -> tuple:
    return (event.event_id, event.TOPIC, event.person_key.encode(), event.to_bytes(), headers_of(event))


_INSERT = "insert into outbox (event_id, topic, key, payload, headers) values ($1, $2, $3, $4, $5)"


async def add(conn: asyncpg.Connection, *events: Envelope) -> None:
    """Queue events for publication; call inside the transaction that makes the state change."""
    if len(events) == 1:
        await conn.execute(_INSERT, *_row(events[0]))
    elif events:
        await add_rows(conn, rows(*events))


def rows(*events: Envelope) -> list[tuple]:
    """Outbox rows for events, with the trace context current now (for callers that batch many causes)."""
    return [_row(e) for e in events]


_COLUMNS = {"event_id": "uuid", "topic": "text", "key": "bytea", "payload": "bytea", "headers": "jsonb"}


async def add_rows(conn: asyncpg.Connection, prepared: list[tuple]) -> None:
    """Rows from `rows`, in one statement (ids, and so publication order, follow the list's order)."""
    await insert_rows(conn, "outbox", _COLUMNS, prepared)


def kafka_producer(bootstrap: str, options: dict | None = None) -> AIOKafkaProducer:
    from onward.kafka_security import client_options

    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        **(client_options() if options is None else options),
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        compression_type=None,
        request_timeout_ms=30000,
    )


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, producer: AIOKafkaProducer, *, batch_size: int = 500,
                 poll_seconds: float = 5.0) -> None:
        self.pool = pool
        self.producer = producer
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    def _notified(self, *_args) -> None:
        self._wake.set()

    async def publish_batch(self) -> int:
        """Publish up to batch_size unpublished rows in id order; return how many were published."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "select id, topic, key, payload, headers from outbox where published_at is null"
                " order by id limit $1 for update skip locked",
                self.batch_size,
            )
            if not rows:
                return 0
            futures = [
                await self.producer.send(
                    r["topic"], r["payload"], key=r["key"],
                    headers=[(k, v.encode()) for k, v in r["headers"].items()],
                )
                for r in rows
            ]
            await asyncio.gather(*futures)
            await conn.execute("update outbox set published_at = now() where id = any($1::bigint[])", [r["id"] for r in rows])
        for r in rows:
            PUBLISHED.labels(r["topic"]).inc()
        return len(rows)

    async def run(self, listen_url: str, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        listener = await asyncpg.connect(listen_url)
        try:
            # Standby relays wait here; the lock is released when the holder's connection dies.
            await listener.execute("select pg_advisory_lock($1)", _RELAY_LOCK)
            await listener.add_listener("outbox", self._notified)
            log.info("outbox relay active")
            delay = 0.5
            while not stop.is_set():
                self._wake.clear()
                try:
                    n = await self.publish_batch()
                    delay = 0.5
                except Exception as exc:  # asyncpg, socket and aiokafka errors alike: back off and retry
                    log.warning("outbox publish failed, retrying", extra={"error": type(exc).__name__, "retry_in_s": delay})
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10)
                    continue
                if n == self.batch_size:
                    continue
                await self._update_backlog()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                except asyncio.TimeoutError:
                    pass
                if listener.is_closed():
                    raise ConnectionError("outbox listener connection lost")
        finally:
            if not listener.is_closed():
                await listener.close()

    async def _update_backlog(self) -> None:
        await update_backlog(self.pool)


async def update_backlog(pool: asyncpg.Pool) -> None:
    """Set the backlog and oldest-age gauges from the outbox table."""
    row = await pool.fetchrow("select count(*) n, coalesce(extract(epoch from now() - min(created_at)), 0)::float8"
                              " age from outbox where published_at is null")
    BACKLOG.set(row["n"])
    OLDEST.set(row["age"])


async def report_backlog(url: str, interval: float) -> None:
    """Refresh the backlog gauges every `interval` seconds, on a timer and a connection of their own: while
    Kafka is down the relay publishes nothing, and these gauges are what shows the backlog and its age grow."""
    from onward.db import create_pool

    pool = None
    try:
        while True:
            try:
                pool = pool or await create_pool(url, 1)
                await update_backlog(pool)
            except Exception as exc:  # the database is down too: keep the last values, try again
                log.warning("outbox gauges not updated", extra={"error": type(exc).__name__})
            await asyncio.sleep(interval)
    finally:
        if pool is not None:
            pool.terminate()
