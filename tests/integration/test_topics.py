"""`prepare` creates topics and grows them when ONWARD_TOPIC_PARTITIONS rises (real broker)."""
import uuid

from onward.kafka_admin import ensure_topics, partitions


async def test_prepare_creates_topics_and_grows_their_partitions(infra):
    topic, dlq = f"test-grow-{uuid.uuid4().hex[:8]}", f"test-grow-{uuid.uuid4().hex[:8]}.dlq"
    await ensure_topics(infra.kafka, 2, (topic, dlq))
    assert await partitions(infra.kafka, topic) == [0, 1]
    assert await partitions(infra.kafka, dlq) == [0]  # dead letters keep one partition, in arrival order
    await ensure_topics(infra.kafka, 4, (topic, dlq))
    assert await partitions(infra.kafka, topic) == [0, 1, 2, 3]
    await ensure_topics(infra.kafka, 3, (topic, dlq))  # never shrinks
    assert await partitions(infra.kafka, topic) == [0, 1, 2, 3]
