"""The production Kafka settings against a real broker run that way: SASL/SCRAM-SHA-512 over TLS and
deny-by-default ACLs (deploy/local/kafka.sh start-secure; ACLs from `onward kafka-acls`)."""
from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError

from onward.kafka_admin import ensure_topics
from onward.kafka_security import acl_arguments, client_options, principal
from onward.outbox import kafka_producer
from onward.settings import Settings
from schemas.events import LeaverRegistered, ReferralRequested
from tests.infra import PORT_OFFSET, ROOT, TEST_RUN

PORT = 19192 + PORT_OFFSET
BOOTSTRAP = f"127.0.0.1:{PORT}"
DIR = TEST_RUN / "kafka-secure"
KAFKA_SH = str(ROOT / "deploy" / "local" / "kafka.sh")

pytestmark = pytest.mark.skipif(shutil.which("keytool") is None, reason="needs the JDK's keytool")


def _password(user: str) -> str:
    key = user.upper().replace("-", "_") + "_PASSWORD="
    return next(line.split("=", 1)[1] for line in (DIR / "credentials.env").read_text().splitlines()
                if line.startswith(key))


def _options(user: str, password: str | None = None) -> dict:
    return client_options(Settings(KAFKA_SECURITY_PROTOCOL="SASL_SSL", KAFKA_SASL_USERNAME=user,
                                   KAFKA_SASL_PASSWORD=password or _password(user),
                                   KAFKA_SSL_CAFILE=str(DIR / "ca.pem")))


@pytest.fixture(scope="module")
async def secure_broker():
    subprocess.run([KAFKA_SH, "stop", str(DIR)], check=True)
    shutil.rmtree(DIR, ignore_errors=True)
    subprocess.run([KAFKA_SH, "start-secure", str(DIR), str(PORT)], check=True)
    try:
        lines = "\n".join(" ".join(a) for a in acl_arguments()) + "\n"
        subprocess.run([KAFKA_SH, "acls", str(DIR), str(PORT)], input=lines, text=True, check=True)
        await ensure_topics(BOOTSTRAP, 2, options=_options("admin"))
        yield
    finally:
        subprocess.run([KAFKA_SH, "stop", str(DIR)], check=True)


async def _send(user: str, topic: str) -> None:
    producer = kafka_producer(BOOTSTRAP, options=_options(user))
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{}", key=b"k" * 64)
    finally:
        await producer.stop()


async def _read(user: str, topic: str, group: str) -> int:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=BOOTSTRAP, group_id=group, auto_offset_reset="earliest",
                                enable_auto_commit=False, **_options(user))
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=5000)
        return sum(len(v) for v in batch.values())
    finally:
        await consumer.stop()


async def test_each_service_writes_and_reads_only_its_own_topics(secure_broker):
    la, ncs = principal("la_tracker"), principal("ncs_referral")
    await _send(la, ReferralRequested.TOPIC)  # la_tracker produces referrals
    assert await _read(ncs, ReferralRequested.TOPIC, "onward-ncs_referral") >= 1  # ncs_referral consumes them
    with pytest.raises(TopicAuthorizationFailedError):
        await _send(la, LeaverRegistered.TOPIC)  # only school_exit writes leavers
    with pytest.raises(KafkaError):
        await _read(ncs, LeaverRegistered.TOPIC, "onward-ncs_referral")  # and ncs_referral may not read them
    with pytest.raises(KafkaError):
        await _read(ncs, ReferralRequested.TOPIC, f"someone-elses-group-{uuid.uuid4().hex[:6]}")
    with pytest.raises(TopicAuthorizationFailedError):
        await _send(principal("intake"), ReferralRequested.TOPIC)  # intake may only write the intake topic


async def test_a_wrong_password_or_a_plaintext_client_gets_nothing(secure_broker):
    with pytest.raises(KafkaError):
        await _send_with(principal("school_exit"), "not-the-password")
    plain = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, request_timeout_ms=3000, connections_max_idle_ms=5000)
    with pytest.raises(KafkaError):
        await plain.start()
    await plain.stop()


async def _send_with(user: str, password: str) -> None:
    producer = kafka_producer(BOOTSTRAP, options=_options(user, password))
    try:
        await producer.start()
        await producer.send_and_wait(LeaverRegistered.TOPIC, b"{}")
    finally:
        await producer.stop()
