"""The outbox relay against real PostgreSQL and Kafka."""
import asyncio
import contextlib
import json
import time
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from onward.db import create_pool, drop_database, ensure_database, migrate
from onward.outbox import OutboxRelay, kafka_producer
from tests.records import read_records


async def _topic(bootstrap: str) -> str:
    name = f"test.relay.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(name, 3, 1)])
    await admin.close()
    return name


async def _insert(conn, topic: str, n: int, key: bytes) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    for i, eid in enumerate(ids):
        await conn.execute("insert into outbox (event_id, topic, key, payload, headers) values ($1, $2, $3, $4, $5)",
                           uuid.UUID(eid), topic, key, json.dumps({"seq": i, "event_id": eid}).encode(),
                           {"event_type": "Test", "event_id": eid})
    return ids


async def _consume(bootstrap: str, topic: str, n: int, timeout: float = 15) -> list:
    return await read_records(bootstrap, topic, n, timeout)


@pytest.fixture
async def relay(infra, tmp_path):
    # A database of its own: a service's database has that service's relay (holding the relay lock).
    name = f"relay_{uuid.uuid4().hex[:8]}"
    url = await ensure_database(infra.pg_server, name)
    await migrate(url, tmp_path)  # the shared plumbing migrations only
    pool = await create_pool(url, 4)
    producer = kafka_producer(infra.kafka)
    await producer.start()
    relay = OutboxRelay(pool, producer, batch_size=50, poll_seconds=30)  # slow poll: only NOTIFY can be fast
    task = asyncio.create_task(relay.run(url))
    yield pool
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await producer.stop()
    await pool.close()
    await drop_database(infra.pg_server, name)


async def test_committed_events_are_published_in_order_with_ids_and_marked_sent(infra, relay):
    topic = await _topic(infra.kafka)
    key = b"f" * 64
    async with relay.acquire() as conn, conn.transaction():
        ids = await _insert(conn, topic, 120, key)  # more than one batch of 50
    records = await _consume(infra.kafka, topic, 120)
    assert [json.loads(r.value)["event_id"] for r in records] == ids  # one key, one partition: commit order
    assert all(r.key == key for r in records)
    assert dict(records[0].headers)["event_id"].decode() == ids[0]
    await asyncio.sleep(0.3)
    unpublished = await relay.fetchval("select count(*) from outbox where topic = $1 and published_at is null", topic)
    assert unpublished == 0


async def test_rolled_back_state_change_publishes_nothing(infra, relay):
    topic = await _topic(infra.kafka)
    with pytest.raises(RuntimeError):
        async with relay.acquire() as conn, conn.transaction():
            await _insert(conn, topic, 3, b"e" * 64)
            raise RuntimeError("the state change failed")
    assert await _consume(infra.kafka, topic, 1, timeout=3) == []


async def test_relay_wakes_on_notify_not_on_its_poll(infra, relay):
    topic = await _topic(infra.kafka)
    consumer_task = asyncio.create_task(_consume(infra.kafka, topic, 1))
    await asyncio.sleep(1.5)  # consumer joined
    started = time.monotonic()
    async with relay.acquire() as conn, conn.transaction():
        await _insert(conn, topic, 1, b"d" * 64)
    records = await consumer_task
    elapsed = time.monotonic() - started
    assert len(records) == 1
    assert elapsed < 5, f"took {elapsed:.2f} s: the relay waited for its 30 s poll"
