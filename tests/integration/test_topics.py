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


async def test_prepare_sets_retention_and_min_insync_replicas_on_the_topics_it_creates(infra):
    """Events carry personal data: their topics keep them 7 days, never the broker's default."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    topic = f"test-config-{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.kafka, 1, (topic,))
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    [(_, _, _, _, entries)] = response.resources
    config = {e[0]: e[1] for e in entries}
    assert config["retention.ms"] == str(7 * 24 * 3600 * 1000)
    assert config["min.insync.replicas"] == "1"  # min(2, replicas): a one-broker test cluster
