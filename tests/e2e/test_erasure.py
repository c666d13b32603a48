"""Erasure (UK GDPR Article 17): one admin request removes a young person's personal data from all
three services through events; every table of every database is searched afterwards; replaying the
young person's old events from Kafka does not bring the data back."""
from __future__ import annotations

import uuid

import asyncpg
from aiokafka import AIOKafkaProducer

from schemas.events import LeaverRegistered, ReferralRequested
from onward.kafka_admin import consumer_lag
from tests.e2e.conftest import eventually
from tests.e2e.leavers import leaver
from tests.records import read_records


async def _all_text(url: str) -> str:
    """Every row of every table of a database, as text."""
    conn = await asyncpg.connect(url)
    try:
        tables = [r["tablename"] for r in await conn.fetch("select tablename from pg_tables where schemaname = 'public'")]
        rows = []
        for t in tables:
            rows += [str(r) for r in await conn.fetch(f'select * from "{t}"')]
        return "\n".join(rows)
    finally:
        await conn.close()


async def _count(url: str, query: str, *args) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def test_erasure_removes_the_young_person_from_every_table_of_every_service(http, urls, tokens, databases,
                                                                                  infra):
    marker = uuid.uuid4().hex[:10]
    body = leaver(given_name=f"Erasable{marker}", family_name=f"Person{marker}", email=f"{marker}@example.org",
                  phone="07700900" + str(int(marker, 16) % 1000).zfill(3), address_lines=[f"{marker} Erasure Road"],
                  uln="1234567899")
    school = tokens("school", laestab=body["school_laestab"])
    r = await http.post(f"{urls['school_exit']}/v1/leavers", json=body, headers=school)
    assert r.status_code == 202, r.text
    pkey, leaver_id = r.json()["person_key"], r.json()["leaver_id"]

    async def referral():
        r = await http.get(f"{urls['ncs_referral']}/v1/referrals", params={"person_key": pkey}, headers=tokens("admin"))
        return r.json()["items"]
    ref = (await eventually(referral))[0]
    # Read by an adviser and LA staff, so the audit logs hold reads of this person too.
    assert (await http.get(f"{urls['ncs_referral']}/v1/referrals/{ref['referral_id']}",
                           headers=tokens("ncs_adviser", ncs_area="East Midlands"))).status_code == 200
    identifying = [body["given_name"], body["family_name"], body["email"], body["phone"], body["upn"],
                   body["address_lines"][0]]
    before = {name: await _all_text(url) for name, url in databases.items()}
    assert all(body["family_name"] in text for text in before.values())  # the search can find them

    # Only an admin may erase.
    for who in (school, tokens("la_staff", la="831"), tokens("ncs_adviser", ncs_area="East Midlands")):
        assert (await http.post(f"{urls['school_exit']}/v1/erasures", json={"upn": body["upn"],
                                "reason": "subject_request"}, headers=who)).status_code == 403
    bad = await http.post(f"{urls['school_exit']}/v1/erasures", json={"reason": "subject_request"},
                          headers=tokens("admin"))
    assert bad.status_code == 422
    r = await http.post(f"{urls['school_exit']}/v1/erasures", json={"upn": body["upn"], "reason": "subject_request"},
                        headers=tokens("admin"))
    assert r.status_code == 202, r.text
    assert r.json()["person_key"] == pkey and r.json()["leaver_reports_erased"] == 1

    async def gone_everywhere():
        return await _count(databases["ncs_referral"], "select count(*) from erased_people where person_key = $1",
                            pkey) == 1
    await eventually(gone_everywhere, timeout=30)
    for name, url in databases.items():
        text = await _all_text(url)
        found = [value for value in identifying if value in text]
        assert not found, f"{name} still holds {found} after erasure"
    assert (await http.get(f"{urls['school_exit']}/v1/leavers/{leaver_id}", headers=school)).status_code == 404
    assert (await http.get(f"{urls['ncs_referral']}/v1/referrals/{ref['referral_id']}",
                           headers=tokens("admin"))).status_code == 404

    # Replaying the person's old events (still within Kafka's retention) restores nothing.
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for topic in (LeaverRegistered.TOPIC, ReferralRequested.TOPIC):
            records = await read_records(infra.kafka, topic, None, match=lambda rec: rec.key == pkey.encode())
            assert records, topic
            for rec in records:
                await producer.send_and_wait(topic, rec.value, key=rec.key)
    finally:
        await producer.stop()
    for group, topics in (("onward-la_tracker", [LeaverRegistered.TOPIC]), ("onward-ncs_referral", [ReferralRequested.TOPIC])):
        async def drained(group=group, topics=topics):
            return await consumer_lag(infra.kafka, group, topics) == 0
        await eventually(drained, timeout=30, interval=0.2)
    for name, url in databases.items():
        text = await _all_text(url)
        assert not [v for v in identifying if v in text], f"{name}: a replayed event restored erased data"
