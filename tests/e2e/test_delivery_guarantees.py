"""Redelivered events change nothing; poison records go to `<topic>.dlq` and the workers go on."""
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from schemas.events import (CaseStatusChanged, DestinationReported, LeaverRegistered, ReferralOutcomeRecorded,
                            ReferralRequested, ReferralWithdrawn)
from schemas.topics import dlq_topic
from tests.e2e.conftest import eventually
from tests.e2e.leavers import leaver
from tests.records import drained, read_records

CONSUMED_TOPICS = [LeaverRegistered.TOPIC, DestinationReported.TOPIC, CaseStatusChanged.TOPIC,
                   ReferralRequested.TOPIC, ReferralWithdrawn.TOPIC, ReferralOutcomeRecorded.TOPIC]


@pytest.fixture
async def producer(infra):
    p = AIOKafkaProducer(bootstrap_servers=infra.kafka, acks="all", enable_idempotence=True)
    await p.start()
    yield p
    await p.stop()


async def _outbox_payload(db_url: str, topic: str, person_key: str) -> tuple[bytes, bytes]:
    conn = await asyncpg.connect(db_url)
    try:
        row = await conn.fetchrow("select key, payload from outbox where topic = $1 and key = $2 order by id limit 1",
                                  topic, person_key.encode())
    finally:
        await conn.close()
    return row["key"], row["payload"]


async def _count(db_url: str, sql: str, *args) -> int:
    conn = await asyncpg.connect(db_url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def _all_published(db_url: str) -> bool:
    return await _count(db_url, "select count(*) = 0 from outbox where published_at is null")


async def test_redelivering_every_event_twice_creates_no_second_case_or_referral(http, urls, tokens, databases, producer,
                                                                                  infra):
    r = await http.post(f"{urls['school_exit']}/v1/leavers", json=leaver(), headers=tokens("school", laestab="8314001"))
    pkey = r.json()["person_key"]
    referrals = "select count(*) from referrals where person_key = $1"
    await eventually(lambda: _count(databases["ncs_referral"], referrals, pkey))
    # Publish the very same events again, twice each, as a crashed relay or a replay would.
    for db, topic in (("school_exit", LeaverRegistered.TOPIC), ("la_tracker", ReferralRequested.TOPIC)):
        key, payload = await _outbox_payload(databases[db], topic, pkey)
        for _ in range(2):
            await producer.send_and_wait(topic, payload, key=key)
    # Every duplicate consumed (whatever partition it is on), and anything la_tracker made of them
    # published, before ncs_referral's group is drained in turn.
    await drained(infra.kafka, "onward-la_tracker", [LeaverRegistered.TOPIC])
    await eventually(lambda: _all_published(databases["la_tracker"]), timeout=60)
    await drained(infra.kafka, "onward-ncs_referral", [ReferralRequested.TOPIC])
    assert await _count(databases["la_tracker"], "select count(*) from cases where person_key = $1", pkey) == 1
    assert await _count(databases["ncs_referral"], referrals, pkey) == 1
    timeline = "select count(*) from case_timeline t join cases c using (case_id) where c.person_key = $1"
    assert await _count(databases["la_tracker"], timeline, pkey) == 2  # case_opened, referral_requested: once each


async def _dlq_records(bootstrap: str, topic: str, want: int, timeout: float = 20) -> list:
    return await read_records(bootstrap, dlq_topic(topic), want, timeout)


async def test_poison_on_every_consumed_topic_goes_to_its_dlq_and_the_worker_goes_on(http, urls, tokens, infra,
                                                                                     databases, producer):
    marker = uuid.uuid4().hex
    for topic in CONSUMED_TOPICS:
        await producer.send_and_wait(topic, f"not json {marker}".encode(), key=b"garbage")
        await producer.send_and_wait(topic, b'{"event_type": "SomethingElse", "schema_version": 1}')
    for topic in CONSUMED_TOPICS:
        records = [r for r in await _dlq_records(infra.kafka, topic, 2) if marker.encode() in r.value
                   or b"SomethingElse" in r.value]
        assert len(records) >= 2, f"{topic}: poison not dead-lettered"
        reasons = [dict(r.headers)["dlq.reason"].decode() for r in records]
        assert any("not JSON" in x for x in reasons) and any("does not belong" in x for x in reasons), reasons
        assert all(r.key is None for r in records)  # a non-pseudonymous key is never copied
    # The workers went on: a fresh leaver still travels the whole path.
    r = await http.post(f"{urls['school_exit']}/v1/leavers", json=leaver(), headers=tokens("school", laestab="8314001"))
    await eventually(lambda: _count(databases["ncs_referral"], "select count(*) from referrals where person_key = $1",
                                    r.json()["person_key"]))


async def test_referral_without_consent_is_refused_to_the_dlq_and_never_stored(infra, databases, producer):
    ev = ReferralRequested(
        producer="test", correlation_id=uuid.uuid4(), person_key=uuid.uuid4().hex * 2, referral_id=uuid.uuid4(),
        case_id=uuid.uuid4(), responsible_la="831", ncs_area="East Midlands", reason="no_known_destination",
        priority=3, given_name="A", family_name="B", date_of_birth="2008-01-01", postcode_district="DE1",
        consent={"share_with_ncs": False})
    await producer.send_and_wait(ev.TOPIC, ev.to_bytes(), key=ev.person_key.encode())
    records = [r for r in await _dlq_records(infra.kafka, ev.TOPIC, 3) if str(ev.referral_id).encode() in r.value]
    assert records and "consent" in dict(records[0].headers)["dlq.reason"].decode()
    assert records[0].key == ev.person_key.encode()
    assert await _count(databases["ncs_referral"], "select count(*) from referrals where referral_id = $1",
                        ev.referral_id) == 0


async def test_a_drained_dlq_record_is_applied_once_after_the_fix(infra, databases, producer):
    """An event dead-lettered by an earlier, faulty version (simulated: a valid event placed in the DLQ
    with its dlq headers) is listed with its reason and replayed to its source by reason; replaying it
    again, or a duplicate, changes nothing: the consumer applies it exactly once."""
    from onward import dlq

    ev = ReferralRequested(
        producer="test", correlation_id=uuid.uuid4(), person_key=uuid.uuid4().hex * 2, referral_id=uuid.uuid4(),
        case_id=uuid.uuid4(), responsible_la="831", ncs_area="East Midlands", reason="no_known_destination",
        priority=3, given_name="A", family_name="B", date_of_birth="2008-01-01", postcode_district="DE1",
        consent={"share_with_ncs": True, "source": "school_leaver_report"})
    await producer.send_and_wait(dlq_topic(ev.TOPIC), ev.to_bytes(), key=ev.person_key.encode(), headers=[
        ("dlq.reason", b"unexpected KeyError at handlers.py:30"), ("dlq.consumer", b"ncs_referral"),
        ("dlq.source", f"{ev.TOPIC}:0:12345".encode())])
    listed = await dlq.show(infra.kafka, dlq_topic(ev.TOPIC))
    assert any(d.reason == "unexpected KeyError at handlers.py:30" and d.source_topic == ev.TOPIC for d in listed)
    reason = "KeyError at handlers.py:30"
    assert await dlq.replay(infra.kafka, dlq_topic(ev.TOPIC), reason) == 1
    query = "select count(*) from referrals where referral_id = $1"
    await eventually(lambda: _count(databases["ncs_referral"], query, ev.referral_id))
    assert await dlq.replay(infra.kafka, dlq_topic(ev.TOPIC), reason) == 1  # replayed twice
    await producer.send_and_wait(ev.TOPIC, ev.to_bytes(), key=ev.person_key.encode())  # and a duplicate anyway
    await drained(infra.kafka, "onward-ncs_referral", [ev.TOPIC])
    assert await _count(databases["ncs_referral"], query, ev.referral_id) == 1
