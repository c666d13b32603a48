"""The outbox relay against real PostgreSQL and Kafka."""
import asyncio
import contextlib
import json
import socket
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from prometheus_client import REGISTRY

from onward.db import connect, create_pool, drop_database, ensure_database, migrate
from onward.outbox import OutboxRelay, kafka_producer
from onward.processes import run_relay
from onward.settings import Settings
from tests.e2e.conftest import eventually
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
    relay = OutboxRelay(pool, producer, batch_size=50, poll_seconds=3600)  # no poll in a test: only NOTIFY wakes it
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

    # The relay marks rows sent in the transaction after Kafka's acknowledgement: wait for that commit.
    async def all_marked():
        return await relay.fetchval("select count(*) = 0 from outbox where topic = $1 and published_at is null", topic)
    await eventually(all_marked, timeout=30)


async def test_rolled_back_state_change_publishes_nothing(infra, relay):
    topic = await _topic(infra.kafka)
    with pytest.raises(RuntimeError):
        async with relay.acquire() as conn, conn.transaction():
            await _insert(conn, topic, 3, b"e" * 64)
            raise RuntimeError("the state change failed")
    assert await _consume(infra.kafka, topic, 1, timeout=3) == []


async def test_relay_wakes_on_notify_not_on_its_poll(infra, relay):
    """The relay's poll is an hour here (fixture), so a row committed after it went idle is only published
    if NOTIFY woke it."""
    topic = await _topic(infra.kafka)
    async with relay.acquire() as conn, conn.transaction():
        [first] = await _insert(conn, topic, 1, b"d" * 64)

    async def idle():  # the first row is published and marked: the relay has gone back to waiting
        return await relay.fetchval("select count(*) = 0 from outbox where published_at is null")
    await eventually(idle, timeout=60)
    async with relay.acquire() as conn, conn.transaction():
        [second] = await _insert(conn, topic, 1, b"d" * 64)
    records = await _consume(infra.kafka, topic, 2, timeout=60)
    assert [json.loads(r.value)["event_id"] for r in records] == [first, second]


async def test_backlog_gauges_grow_on_their_own_timer_while_kafka_is_unreachable(infra, tmp_path, unused_port):
    """A relay whose broker is unreachable publishes nothing; its backlog and oldest-age gauges still
    follow the outbox (they were frozen at their last value before: the alert on age could never fire)."""
    name = f"relay_{uuid.uuid4().hex[:8]}"
    url = await ensure_database(infra.pg_server, name)
    await migrate(url, tmp_path)
    settings = Settings(database_url=url, kafka_bootstrap_servers=f"127.0.0.1:{unused_port}", relay_poll_seconds=0.2)
    task = asyncio.create_task(run_relay(settings))
    conn = await connect(url)
    try:
        await _insert(conn, "test.relay.unreachable", 3, b"c" * 64)

        async def backlog():
            return _gauge("onward_outbox_backlog_events") == 3
        await eventually(backlog, timeout=60)
        first_age = _gauge("onward_outbox_oldest_unpublished_seconds")

        async def older():
            return _gauge("onward_outbox_oldest_unpublished_seconds") > first_age
        await eventually(older, timeout=60)
        assert await conn.fetchval("select count(*) from outbox where published_at is null") == 3
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await conn.close()
        await drop_database(infra.pg_server, name)


def _gauge(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


@pytest.fixture
def unused_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
