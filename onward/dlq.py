"""Operators' tools for dead-letter topics: list what is there and why, and replay records to their source.

`onward dlq show <topic>.dlq` prints one line per record (source topic:partition:offset, consumer,
reason; never the payload, which holds personal data). `onward dlq replay <topic>.dlq` republishes
each record, unchanged, to the topic it came from, once the cause is fixed (a deployed bug fix, a
new LA code); the consumers are idempotent by event id, so a replay never applies an event twice.
`--reason` replays only records whose reason contains the text: a record that is still poison (a
referral without consent) would only come back to the DLQ, so replay what the fix addressed.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from onward.kafka_admin import partitions
from onward.kafka_security import client_options
from onward.outbox import kafka_producer


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    source: str
    consumer: str
    reason: str
    key: bytes | None
    value: bytes
    headers: tuple

    @property
    def source_topic(self) -> str:
        return self.source.rsplit(":", 2)[0]


async def _records(bootstrap: str, topic: str) -> AsyncIterator[DeadLetter]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
                                **client_options())
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in await partitions(bootstrap, topic)]
        if not parts:
            return
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        remaining = {tp for tp in parts if await consumer.position(tp) < ends[tp]}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                for r in records:
                    h = {k: v.decode("utf-8", "replace") for k, v in (r.headers or ())}
                    yield DeadLetter(r.partition, r.offset, h.get("dlq.source", ""), h.get("dlq.consumer", ""),
                                               h.get("dlq.reason", ""), r.key, r.value, tuple(r.headers or ()))
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
    finally:
        await consumer.stop()


async def show(bootstrap: str, topic: str) -> list[DeadLetter]:
    return [d async for d in _records(bootstrap, topic)]


async def replay(bootstrap: str, topic: str, reason_contains: str | None = None) -> int:
    """Republish the records (those whose reason contains `reason_contains`) to their source; return how many."""
    if not topic.endswith(".dlq"):
        raise ValueError("name a dead-letter topic (<topic>.dlq)")
    producer = kafka_producer(bootstrap)
    await producer.start()
    n = 0
    try:
        async for d in _records(bootstrap, topic):
            if reason_contains and reason_contains not in d.reason:
                continue
            target = d.source_topic or topic.removesuffix(".dlq")
            headers = [(k, v) for k, v in d.headers if not k.startswith("dlq.")] + [("dlq.replayed_from", d.source.encode())]
            await (await producer.send(target, d.value, key=d.key, headers=headers))
            n += 1
    finally:
        await producer.stop()
    return n
