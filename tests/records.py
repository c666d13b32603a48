"""Reading what is on a topic, for tests: a fresh consumer group from the earliest offset."""
import time
import uuid

from aiokafka import AIOKafkaConsumer


async def read_records(bootstrap: str, topic: str, want: int, timeout: float = 15, match=lambda r: True) -> list:
    """Records of `topic` for which `match` holds, until `want` of them or `timeout` seconds."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                group_id=f"test-{uuid.uuid4().hex[:8]}", enable_auto_commit=False)
    await consumer.start()
    got, deadline = [], time.monotonic() + timeout
    try:
        while len(got) < want and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                got.extend(r for r in records if match(r))
    finally:
        await consumer.stop()
    return got
