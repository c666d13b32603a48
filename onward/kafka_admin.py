"""Topic creation: every registered topic and its DLQ, created before any process uses them."""
from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas.topics import ALL_TOPICS


async def ensure_topics(bootstrap: str, partitions: int, topics: tuple[str, ...] = ALL_TOPICS) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, partitions if not t.endswith(".dlq") else 1, 1) for t in topics if t not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
        # Metadata propagates asynchronously; wait until every topic is listed.
        for _ in range(50):
            if set(topics) <= set(await admin.list_topics()):
                return
            await asyncio.sleep(0.2)
        raise RuntimeError("topics were not created in time")
    finally:
        await admin.close()


async def kafka_reachable(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await asyncio.wait_for(admin.start(), 5)
        await asyncio.wait_for(admin.list_topics(), 5)
        return True
    except Exception:
        return False
    finally:
        await admin.close()


async def consumer_lag(bootstrap: str, group: str, topics: list[str]) -> int:
    """Records of `topics` not yet committed by consumer group `group` (the end offset minus the
    committed offset, summed over partitions; a partition the group never committed counts in full)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await admin.start()
    await probe.start()
    try:
        parts = [TopicPartition(d["topic"], p["partition"])
                 for d in await admin.describe_topics(topics) for p in d["partitions"]]
        ends = await probe.end_offsets(parts)
        committed = await admin.list_consumer_group_offsets(group, partitions=parts)
        return sum(max(0, ends[tp] - (committed[tp].offset if committed.get(tp) and committed[tp].offset >= 0 else 0))
                   for tp in parts)
    finally:
        await probe.stop()
        await admin.close()
