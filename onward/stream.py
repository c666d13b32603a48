"""faust-streaming workers: raw records in, idempotent effects, explicit acks, DLQ for poison.

Acks are manual (`onward.take.noack_batches`: faust's `noack_take` without its idle wake-ups): a
record is acked only after its transaction committed (or it went to the DLQ), so faust's
at_least_once commit never moves past an unprocessed record, even when the worker is cancelled
mid-batch. faust's exactly_once mode is deliberately not used (docs/contracts.md).
"""
from __future__ import annotations

import asyncio
import importlib
import logging
import re
import traceback
from collections.abc import Callable
from pathlib import Path

import asyncpg
import faust
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Gauge, Histogram

from onward import telemetry
from onward.consumer import TRANSIENT_ERRORS, BatchEffect, Effect, Rejected, process_batch
from onward.db import create_pool
from onward.kafka_admin import partition_lag, topic_depth
from onward.kafka_security import faust_credentials
from onward.liveness import Progress
from onward.settings import Settings
from onward.take import noack_batches
from schemas.envelope import Envelope
from schemas.topics import PoisonMessage, decode, dlq_topic

log = logging.getLogger(__name__)
_PERSON_KEY = re.compile(rb"^[0-9a-f]{64}$")

BATCH_MAX = 500        # events per transaction
BATCH_WINDOW_S = 0.005  # how long a lone event waits for company: the latency cost of batching
CONSUMED = Counter("onward_events_consumed_total", "Events consumed", ["consumer", "topic", "result"])
CONSUMER_LAG = Gauge("onward_consumer_lag_records", "Records not yet committed by the service's consumer group",
                     ["group", "topic", "partition"])
DLQ_DEPTH = Gauge("onward_dlq_records", "Records held in a dead-letter topic", ["topic"])
LAG_INTERVAL_S = 15.0
BATCH_SIZE = Histogram("onward_consumer_batch_events", "Events per consumed batch (one transaction)", ["consumer", "topic"],
                       buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500))


class Resources:
    """The worker's database pool, opened on first use inside faust's event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def pool(self) -> asyncpg.Pool:
        async with self._lock:
            while self._pool is None:
                try:
                    self._pool = await create_pool(self.settings.database_url, self.settings.db_pool_max)
                except TRANSIENT_ERRORS as exc:
                    log.warning("database not reachable, retrying", extra={"error": type(exc).__name__})
                    await asyncio.sleep(1)
            return self._pool


def make_app(service: str, settings: Settings) -> faust.App:
    datadir = Path(settings.run_dir) / "faust" / f"{service}-{settings.replica}"
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        f"onward-{service}",  # the consumer group: one per service
        broker=[f"kafka://{s}" for s in settings.kafka_bootstrap_servers.split(",")],
        web_enabled=False,
        processing_guarantee="at_least_once",
        consumer_auto_offset_reset="earliest",
        topic_disable_leader=True,
        producer_acks=-1,
        broker_commit_interval=0.5,
        # A killed worker's partitions move to the others after this long without heartbeats.
        broker_session_timeout=15.0,
        broker_heartbeat_interval=3.0,
        datadir=str(datadir),
        autodiscover=False,
        key_serializer="raw",
        value_serializer="raw",
        broker_credentials=faust_credentials(settings),  # SASL/SCRAM over TLS in production
    )
    app.onward_topics = []  # filled by consume()
    app.onward_progress = Progress()  # liveness (onward/liveness.py): batches done, lag on own partitions


    @app.timer(LAG_INTERVAL_S)
    async def report_lag() -> None:
        """Consumer lag per partition and dead-letter backlog, for /metrics (every replica reports the group's)."""
        try:
            lag = await partition_lag(settings.kafka_bootstrap_servers, app.conf.id, app.onward_topics)
            depth = await topic_depth(settings.kafka_bootstrap_servers, [dlq_topic(t) for t in app.onward_topics])
        except Exception as exc:
            log.warning("lag report failed", extra={"error": type(exc).__name__})
            app.onward_progress.checked(app.onward_progress.waiting)  # the loop runs; lag unknown
            return
        mine = {(tp.topic, tp.partition) for tp in app.consumer.assignment()}
        app.onward_progress.checked(sum(n for tp, n in lag.items() if tp in mine))
        for (topic, partition), n in lag.items():
            CONSUMER_LAG.labels(app.conf.id, topic, str(partition)).set(n)
        for topic, n in depth.items():
            DLQ_DEPTH.labels(topic).set(n)

    return app


def decode_event(msg: faust.types.Message) -> Envelope:
    return decode(msg.topic, msg.value)


def consume(app: faust.App, topic_name: str, consumer: str, effect: Effect, resources: Resources,
            decoder: Callable[[faust.types.Message], Envelope] = decode_event,
            batch_effect: BatchEffect | None = None) -> None:
    """Register an agent that applies `effect` once per event of `topic_name`.

    `decoder` turns a record into something with an `event_id` or raises PoisonMessage.
    """
    source = app.topic(topic_name, key_type=bytes, value_type=bytes)
    app.onward_topics.append(topic_name)
    dlq = app.topic(dlq_topic(topic_name), key_type=bytes, value_type=bytes)

    async def traced(conn: asyncpg.Connection, item: Envelope) -> None:
        # Continue the producer's trace (from the record's headers) while this event's effect runs.
        with telemetry.event_context(item), telemetry.tracer.start_as_current_span(
                f"{consumer} {topic_name}", kind=SpanKind.CONSUMER,
                attributes={"messaging.destination.name": topic_name, "onward.event_id": str(item.event_id)}):
            await effect(conn, item)

    contexts: dict[int, object] = {}  # id(event) -> its producer's trace context

    async def handle(events: list[faust.types.EventT]) -> None:
        decoded, by_id = [], {}
        for event in events:
            try:
                item = decoder(event.message)
            except PoisonMessage as exc:
                await _to_dlq(dlq, event.message, consumer, str(exc))
                continue
            decoded.append(item)
            by_id[id(item)] = event.message
            headers = event.message.headers
            contexts[id(item)] = telemetry.from_kafka(headers.items() if isinstance(headers, dict) else headers)
        if not decoded:
            return
        BATCH_SIZE.labels(consumer, topic_name).observe(len(decoded))
        pool = await resources.pool()
        telemetry.set_event_contexts(contexts)
        try:
            applied, failures = await _retrying(lambda: process_batch(pool, consumer, decoded, traced, batch_effect))
        finally:
            for item in decoded:
                contexts.pop(id(item), None)
        CONSUMED.labels(consumer, topic_name, "processed").inc(applied)
        CONSUMED.labels(consumer, topic_name, "duplicate").inc(len(decoded) - applied - len(failures))
        for item, exc in failures:
            if isinstance(exc, Rejected):
                reason = str(exc)
            else:  # a bug or unexpected data. Exception texts can quote row values, so keep type and place.
                reason = f"unexpected {type(exc).__name__} at {_where(exc)}"
            await _to_dlq(dlq, by_id[id(item)], consumer, reason)

    async def agent(stream: faust.StreamT) -> None:
        # faust never acks for us, so a batch is acked only after its transaction committed
        # (or its poison went to the DLQ), even if the worker is cancelled mid-batch.
        async for events in noack_batches(stream, BATCH_MAX, BATCH_WINDOW_S):
            await handle(events)
            for event in events:
                await stream.ack(event)
            app.onward_progress.batch_done()

    agent.__name__ = f"{consumer}_{topic_name.replace('.', '_').replace('-', '_')}"
    app.agent(source, name=agent.__name__)(agent)


def _where(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    return f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else "unknown"


async def _retrying(call):
    delay = 0.2
    while True:
        try:
            return await call()
        except TRANSIENT_ERRORS as exc:
            log.warning("transient failure, retrying", extra={"error": type(exc).__name__, "retry_in_s": delay})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5)


async def _to_dlq(dlq: faust.TopicT, msg: faust.types.Message, consumer: str, reason: str) -> None:
    # The key is kept only if it is a person key: a malformed producer's key might hold personal data.
    key = msg.key if isinstance(msg.key, bytes) and _PERSON_KEY.match(msg.key) else None
    headers = {
        "dlq.reason": reason[:2000].encode(),
        "dlq.consumer": consumer.encode(),
        "dlq.source": f"{msg.topic}:{msg.partition}:{msg.offset}".encode(),
    }
    delay = 0.2
    while True:
        try:
            fut = await dlq.send(key=key, value=msg.value if msg.value is not None else b"", headers=headers)
            await fut
            break
        except Exception as exc:
            log.warning("DLQ publish failed, retrying", extra={"error": type(exc).__name__})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5)
    CONSUMED.labels(consumer, msg.topic, "dead_lettered").inc()
    log.warning("record dead-lettered", extra={"topic": msg.topic, "partition": msg.partition, "offset": msg.offset,
                                               "reason": reason[:300]})


def purge_on_schedule(app: faust.App, service: str, resources: Resources, settings: Settings) -> None:
    """Apply the service's retention rules (onward/retention.py) every ONWARD_PURGE_INTERVAL_SECONDS."""
    from datetime import datetime, timezone

    from onward.retention import purge

    rules = importlib.import_module(f"services.{service}.retention").RULES

    @app.timer(settings.purge_interval_seconds)
    async def retention_purge() -> None:
        pool = await resources.pool()
        async with pool.acquire() as conn:
            removed = await purge(conn, rules, datetime.now(timezone.utc))
        if any(removed.values()):
            log.info("retention purge", extra={"removed": removed})


def run_worker(app: faust.App) -> None:
    from faust.worker import Worker

    Worker(app, loglevel="WARNING", redirect_stdouts=False, override_logging=False).execute_from_commandline()
