"""Replaying whole topics from offset 0 changes nothing; no personal data in Kafka keys, headers or logs.

Named to run late in the e2e session (pytest runs files in name order), after most leavers went through.
"""
import asyncpg
from aiokafka import AIOKafkaProducer

from schemas.events import DestinationReported, LeaverRegistered, ReferralOutcomeRecorded, ReferralRequested
from schemas.events_young_person import ConsentWithdrawn, DestinationSelfReported, HelpRequested
from tests.e2e.conftest import eventually
from tests.e2e.leavers import leaver
from tests.e2e.test_young_person import young_person_with_link
from tests.infra import TEST_RUN
from tests.records import drained, read_records

YOUNG_PERSON_TOPICS = (DestinationSelfReported.TOPIC, HelpRequested.TOPIC, ConsentWithdrawn.TOPIC)
STATE = {
    "la_tracker": "select (select count(*) from cases), (select count(*) from case_timeline),"
                  " (select count(*) from young_people), (select count(*) from outbox)",
    "ncs_referral": "select (select count(*) from referrals), (select count(*) from referral_timeline),"
                    " (select count(*) from outbox)",
}


async def _state(databases) -> dict:
    out = {}
    for db, sql in STATE.items():
        conn = await asyncpg.connect(databases[db])
        try:
            out[db] = tuple(await conn.fetchrow(sql))
        finally:
            await conn.close()
    return out


async def test_replaying_whole_topics_from_offset_0_changes_nothing(infra, databases, http, urls, tokens):
    before = await _state(databases)
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka, acks="all", enable_idempotence=True)
    await producer.start()
    replayed = 0
    try:
        for topic in (LeaverRegistered.TOPIC, DestinationReported.TOPIC, ReferralRequested.TOPIC,
                      ReferralOutcomeRecorded.TOPIC, *YOUNG_PERSON_TOPICS):
            for r in await read_records(infra.kafka, topic, None, timeout=30):
                await producer.send(topic, r.value, key=r.key, headers=list(r.headers))
                replayed += 1
        await producer.flush()
    finally:
        await producer.stop()
    assert replayed > 10
    await drained(infra.kafka, "onward-la_tracker", [LeaverRegistered.TOPIC, DestinationReported.TOPIC,
                                                     ReferralOutcomeRecorded.TOPIC, *YOUNG_PERSON_TOPICS])
    await drained(infra.kafka, "onward-ncs_referral", [ReferralRequested.TOPIC])
    # A marker leaver after the replay shows the pipeline still works and counts exactly its own effects.
    r = await http.post(f"{urls['school_exit']}/v1/leavers", json=leaver(), headers=tokens("school", laestab="8314001"))
    marker = r.json()["person_key"]

    async def marker_referred():
        conn = await asyncpg.connect(databases["ncs_referral"])
        try:
            return await conn.fetchval("select 1 from referrals where person_key = $1", marker)
        finally:
            await conn.close()
    await eventually(marker_referred, timeout=120, interval=0.5)
    # Everything the marker caused is consumed and committed (the referral can exist before la_tracker's
    # timeline or ncs_referral's other rows are all written) before the counts are taken.
    await drained(infra.kafka, "onward-la_tracker", [LeaverRegistered.TOPIC, DestinationReported.TOPIC,
                                                     ReferralOutcomeRecorded.TOPIC])
    await drained(infra.kafka, "onward-ncs_referral", [ReferralRequested.TOPIC])
    after = await _state(databases)
    la_b, la_a = before["la_tracker"], after["la_tracker"]
    # exactly the marker's own effects: one case, two timeline rows, one person, two outbox events
    assert la_a == (la_b[0] + 1, la_b[1] + 2, la_b[2] + 1, la_b[3] + 2), (before, after)
    assert after["ncs_referral"][:2] == (before["ncs_referral"][0] + 1, before["ncs_referral"][1] + 1)


async def test_no_personal_data_in_kafka_keys_headers_or_logs(infra, databases, http, urls, tokens):
    await young_person_with_link(http, urls, tokens)  # at least one message to a young person, with its link
    conn = await asyncpg.connect(databases["school_exit"])
    try:
        rows = await conn.fetch("select upn, body from leavers order by created_at desc limit 300")
    finally:
        await conn.close()
    needles, first_names = set(), set()
    for r in rows:
        b = r["body"] if isinstance(r["body"], dict) else __import__("json").loads(r["body"])
        needles |= {r["upn"], b["given_name"], b["family_name"], b["date_of_birth"], b["home_postcode"],
                    b.get("uln") or "", b.get("email") or "", b.get("phone") or ""}
        first_names.add(b["given_name"])
    # Names with letters and identifiers of 5+ characters: short or numeric fuzz values would match by chance.
    needles = {n for n in needles if n and len(n) >= 5 and (any(c.isalpha() for c in n) or len(n) >= 10)}
    assert len(needles) > 20
    exposed = []
    for topic in (LeaverRegistered.TOPIC, ReferralRequested.TOPIC, DestinationReported.TOPIC,
                  f"{LeaverRegistered.TOPIC}.dlq", f"{ReferralRequested.TOPIC}.dlq", *YOUNG_PERSON_TOPICS):
        for rec in await read_records(infra.kafka, topic, None, timeout=30):
            text = (rec.key or b"").decode(errors="replace") + "".join(
                k + v.decode(errors="replace") for k, v in rec.headers)
            exposed += [n for n in needles if n in text]
    logs = "".join(p.read_text(errors="replace") for p in (TEST_RUN / "stack" / "logs").glob("*.log"))
    assert len(logs) > 1000
    exposed += [n for n in needles if n in logs]
    # Messages to young people (issue 17): their links carry a random token only, and the words greet by
    # first name (no family name, DOB, postcode or identifier).
    box = (await http.get(f"{urls['la_tracker']}/dev/messages.json")).json()
    exposed += [n for m in box for n in needles if n in m["link"] or (n in m["body"] and n not in first_names)]
    assert exposed == [], f"personal data found: {exposed[:5]}"
