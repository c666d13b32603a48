"""Reading what is on a topic, for tests: every partition from the earliest offset."""
import asyncio
import time
from aiokafka import AIOKafkaConsumer


async def read_records(bootstrap: str, topic: str, want: int | None, timeout: float = 15,
                       match=lambda r: True) -> list:
    """Records of `topic` for which `match` holds, until `want` of them (None: all up to the end
    offsets as they were when reading began) or `timeout` seconds."""
    from aiokafka import TopicPartition

    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        for _ in range(50):  # a topic created a moment ago may not be described yet
            [described] = await admin.describe_topics([topic])
            if described["partitions"]:
                break
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
    parts = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    consumer.assign(parts)
    await consumer.seek_to_beginning(*parts)
    ends = await consumer.end_offsets(parts)
    got, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if want is not None and len(got) >= want:
                break
            if want is None and all([await consumer.position(tp) >= ends[tp] for tp in parts]):
                break
            for records in (await consumer.getmany(timeout_ms=200)).values():
                got.extend(r for r in records if match(r))
    finally:
        await consumer.stop()
    return got


async def drained(bootstrap: str, group: str, topics: list[str], timeout: float = 120) -> None:
    """Wait until `group` has committed every partition of `topics` up to its end offset."""
    import asyncio

    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await admin.start()
    await probe.start()
    try:
        parts = [tp for t in topics for tp in
                 (__import__("aiokafka").TopicPartition(t, p) for p in probe.partitions_for_topic(t) or ())]
        ends = await probe.end_offsets(parts)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            committed = await admin.list_consumer_group_offsets(group, partitions=parts)
            if all(committed.get(tp) is not None and committed[tp].offset >= ends[tp] for tp in parts):
                return
            await asyncio.sleep(0.5)
        raise AssertionError(f"{group} did not catch up with {topics} in {timeout} s")
    finally:
        await probe.stop()
        await admin.close()
