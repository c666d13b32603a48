"""Topic creation: every registered topic and its DLQ, created before any process uses them."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas.topics import ALL_TOPICS


def _opts(options: dict | None) -> dict:
    """Security options for a client (SASL/TLS from the settings unless given)."""
    from onward.kafka_security import client_options

    return client_options() if options is None else options


# Events carry personal data: Kafka keeps them 7 days (docs/operations.md, section 9), never the broker default.
RETENTION_MS = 7 * 24 * 3600 * 1000


def topic_config(replication: int) -> dict[str, str]:
    """Settings of every topic: retention, and min.insync.replicas=2 with 3 replicas (acks=all survives a broker)."""
    return {"retention.ms": str(RETENTION_MS), "cleanup.policy": "delete",
            "min.insync.replicas": str(min(2, replication))}


async def ensure_topics(bootstrap: str, partitions: int, topics: tuple[str, ...] = ALL_TOPICS,
                        replication: int = 1, options: dict | None = None) -> None:
    """Create missing topics (DLQs with one partition), and grow existing ones to `partitions`.

    Growing moves some keys to new partitions: do it with no consumer lag (docs/operations.md)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **_opts(options), request_timeout_ms=30000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, partitions if not t.endswith(".dlq") else 1, replication,
                            topic_configs=topic_config(replication)) for t in topics if t not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
        present = [t for t in topics if t in existing and not t.endswith(".dlq")]
        if present:
            grow = {d["topic"]: NewPartitions(partitions) for d in await admin.describe_topics(present)
                    if not d.get("error_code") and len(d["partitions"]) < partitions}
            if grow:
                await admin.create_partitions(grow)
        await _until_visible(admin, topics, partitions)
    finally:
        await admin.close()


async def _until_visible(admin: AIOKafkaAdminClient, topics: tuple[str, ...], partitions: int,
                         timeout: float = 60) -> None:
    """Metadata propagates asynchronously: wait until every topic is listed with all its partitions."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if set(topics) <= set(await admin.list_topics()):
            described = await admin.describe_topics(list(topics))
            if all(not d.get("error_code") and len(d["partitions"]) >= (1 if d["topic"].endswith(".dlq") else partitions)
                   for d in described):
                return
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError("topics were not created in time")
        await asyncio.sleep(0.2)


async def consumer_lag(bootstrap: str, group: str, topics: list[str], options: dict | None = None) -> int:
    """Records of `topics` not yet committed by consumer group `group` (the end offset minus the
    committed offset, summed over partitions; a partition the group never committed counts in full)."""
    return sum((await partition_lag(bootstrap, group, topics, options)).values())


@asynccontextmanager
async def _inspect(bootstrap: str, topics: list[str], options: dict | None):
    """An admin client, an offsets probe and the (existing) partitions of `topics`."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **_opts(options), request_timeout_ms=10000)
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, **_opts(options), enable_auto_commit=False)
    await admin.start()
    await probe.start()
    try:
        parts = [TopicPartition(d["topic"], p["partition"])
                 for d in await admin.describe_topics(topics) if not d.get("error_code") for p in d["partitions"]]
        yield admin, probe, parts
    finally:
        await probe.stop()
        await admin.close()


async def partition_lag(bootstrap: str, group: str, topics: list[str],
                        options: dict | None = None) -> dict[tuple[str, int], int]:
    """Lag of consumer group `group` per (topic, partition)."""
    async with _inspect(bootstrap, topics, options) as (admin, probe, parts):
        ends = await probe.end_offsets(parts)
        committed = await admin.list_consumer_group_offsets(group, partitions=parts)
        return {(tp.topic, tp.partition):
                max(0, ends[tp] - (committed[tp].offset if committed.get(tp) and committed[tp].offset >= 0 else 0))
                for tp in parts}


async def topic_depth(bootstrap: str, topics: list[str], options: dict | None = None) -> dict[str, int]:
    """Records currently held per topic (end minus beginning offsets): a dead-letter topic's backlog."""
    async with _inspect(bootstrap, topics, options) as (_, probe, parts):
        ends, starts = await probe.end_offsets(parts), await probe.beginning_offsets(parts)
        depth = dict.fromkeys(topics, 0)
        for tp in parts:
            depth[tp.topic] += ends[tp] - starts[tp]
        return depth


async def partitions(bootstrap: str, topic: str, options: dict | None = None) -> list[int]:
    """The partition numbers of `topic` (empty when it does not exist)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **_opts(options), request_timeout_ms=10000)
    await admin.start()
    try:
        return sorted(p["partition"] for d in await admin.describe_topics([topic]) if not d.get("error_code")
                      for p in d["partitions"])
    finally:
        await admin.close()
