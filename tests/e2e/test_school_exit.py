"""school_exit against real PostgreSQL and Kafka: idempotency, batches, file import, Kafka intake."""
import json

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from schemas.events import LeaverRegistered
from schemas.topics import LEAVER_SUBMITTED, dlq_topic
from tests.e2e.conftest import eventually
from tests.e2e.leavers import leaver
from tests.records import read_records

SCHOOL = "8314001"


@pytest.fixture
def school(tokens):
    return tokens("school", laestab=SCHOOL)


async def _fetch(url: str, sql: str, *args):
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def _registered_events(databases, leaver_id: str) -> list[dict]:
    rows = await _fetch(databases["school_exit"], "select payload from outbox where topic = $1 order by id",
                        LeaverRegistered.TOPIC)
    return [e for e in (json.loads(r["payload"]) for r in rows) if e["leaver_id"] == leaver_id]


async def test_resend_returns_same_leaver_and_changes_nothing_while_a_changed_resend_is_an_update(
        http, urls, school, databases):
    body = leaver()
    first = (await http.post(f"{urls['school_exit']}/v1/leavers", json=body, headers=school)).json()
    again = (await http.post(f"{urls['school_exit']}/v1/leavers", json=body, headers=school)).json()
    assert (again["leaver_id"], again["status"]) == (first["leaver_id"], "unchanged")
    assert len(await _registered_events(databases, first["leaver_id"])) == 1
    changed = (await http.post(f"{urls['school_exit']}/v1/leavers", json=body | {"email": "new@example.org"},
                               headers=school)).json()
    assert (changed["leaver_id"], changed["status"]) == (first["leaver_id"], "updated")
    events = await _registered_events(databases, first["leaver_id"])
    assert [e["revision"] for e in events] == [1, 2] and events[1]["email"] == "new@example.org"


async def test_batch_accepts_good_items_and_names_the_fields_of_bad_ones(http, urls, school):
    good = [leaver() for _ in range(3)]
    bad = [leaver(upn="A801200001001"), leaver(home_postcode="??", nc_year=99)]
    r = await http.post(f"{urls['school_exit']}/v1/leavers/batch", json={"leavers": [good[0], bad[0], good[1], bad[1],
                                                                                     good[2], good[0]]}, headers=school)
    assert r.status_code == 207
    out = r.json()
    assert (out["accepted"], out["rejected"]) == (4, 2)
    res = out["results"]
    assert [x["result"] for x in res] == ["accepted", "rejected", "accepted", "rejected", "accepted", "unchanged"]
    assert res[5]["leaver_id"] == res[0]["leaver_id"]
    assert [e["field"] for e in res[1]["errors"]] == ["upn"]
    assert {e["field"] for e in res[3]["errors"]} == {"home_postcode", "nc_year"}
    got = await http.get(f"{urls['school_exit']}/v1/leavers/{res[2]['leaver_id']}", headers=school)
    assert got.status_code == 200 and got.json()["upn"] == good[1]["upn"]


async def test_batch_over_5000_is_413_and_another_schools_leaver_is_rejected(http, urls, school):
    r = await http.post(f"{urls['school_exit']}/v1/leavers/batch", json={"leavers": [{}] * 5001}, headers=school)
    assert r.status_code == 413
    r = await http.post(f"{urls['school_exit']}/v1/leavers/batch", json={"leavers": [leaver(school_laestab="8314002")]},
                        headers=school)
    assert r.json()["results"][0]["errors"][0]["field"] == "school_laestab"


async def test_leaver_of_an_unknown_la_is_rejected(http, urls, tokens):
    r = await http.post(f"{urls['school_exit']}/v1/leavers", json=leaver(school_laestab="9994001"),
                        headers=tokens("school", laestab="9994001"))
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "school_laestab"


def _csv(rows: list[dict]) -> bytes:
    head = "UPN,ULN,Forename,Surname,DOB,Postcode,LeavingDate,NCYear,DestinationCode,DestinationStatus,ConsentNCS\n"
    return (head + "".join(
        f"{r['upn']},{r.get('uln') or ''},{r['given_name']},{r['family_name']},{r['dob']},{r['home_postcode']},"
        f"{r['leaving']},13,{r.get('code', '')},{r.get('status', '')},{r.get('consent_flag', 'Y')}\n" for r in rows)).encode()


async def test_csv_import_accepts_good_rows_reports_bad_rows_and_is_idempotent(http, urls, school):
    a, b = leaver(), leaver()
    rows = [
        {**a, "given_name": "Siobhán", "family_name": "O'Neill-Ryan", "dob": "14/03/2008", "leaving": "2026-07-17",
         "code": "230", "status": "Intended"},
        {**b, "dob": "2008-03-14", "leaving": "17/07/2026"},
        {**leaver(), "upn": "A801200001001", "dob": "2008-03-14", "leaving": "2026-07-17"},
        {**leaver(), "dob": "2008-03-14", "leaving": "2026-07-17", "consent_flag": "maybe"},
    ]
    files = {"file": ("leavers.csv", _csv(rows), "text/csv")}
    out = (await http.post(f"{urls['school_exit']}/v1/leavers/import", files=files, headers=school)).json()
    assert [r["result"] for r in out["results"]] == ["accepted", "accepted", "rejected", "rejected"]
    assert [r["row"] for r in out["results"]] == [1, 2, 3, 4]
    assert out["results"][2]["errors"][0]["field"] == "upn"
    assert "ConsentNCS" in out["results"][3]["errors"][0]["message"]
    first = (await http.get(f"{urls['school_exit']}/v1/leavers/{out['results'][0]['leaver_id']}", headers=school)).json()
    assert (first["given_name"], first["family_name"], first["date_of_birth"]) == ("Siobhán", "O'Neill-Ryan", "2008-03-14")
    again = (await http.post(f"{urls['school_exit']}/v1/leavers/import", files=files, headers=school)).json()
    assert [r["result"] for r in again["results"][:2]] == ["unchanged", "unchanged"]


@pytest.mark.parametrize("attack", [
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]><CTfile><Header/><CTFpupilData>&lol3;</CTFpupilData></CTfile>',
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<CTfile><Header/><CTFpupilData><Pupil><Surname>&xxe;</Surname></Pupil></CTFpupilData></CTfile>',
])
async def test_malicious_xml_is_refused_without_expanding_anything(http, urls, school, attack):
    r = await http.post(f"{urls['school_exit']}/v1/leavers/import", files={"file": ("x.xml", attack, "text/xml")},
                        headers=school)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "file"
    assert "root:" not in r.text


async def test_objection_to_sharing_keeps_contact_details_in_school_exit(http, urls, school, databases):
    body = leaver(characteristics=["140", "160"], consent={"share_with_ncs": True, "objects_to_sharing": True})
    r = (await http.post(f"{urls['school_exit']}/v1/leavers", json=body, headers=school)).json()
    [event] = await _registered_events(databases, r["leaver_id"])
    assert (event["email"], event["phone"], event["characteristics"]) == (None, None, ["160"])
    assert (event["given_name"], event["date_of_birth"], event["address_lines"]) == (
        body["given_name"], body["date_of_birth"], body["address_lines"])


async def test_kafka_intake_registers_valid_records_and_dead_letters_invalid_ones_with_field_errors(
        infra, http, urls, tokens):
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka, acks="all", enable_idempotence=True)
    await producer.start()
    good, bad = leaver(), leaver(upn="A801200001001", nc_year=3)
    try:
        await producer.send_and_wait(LEAVER_SUBMITTED, json.dumps(bad).encode(), key=bad["upn"].encode())
        await producer.send_and_wait(LEAVER_SUBMITTED, json.dumps(good).encode())
    finally:
        await producer.stop()
    la = tokens("la_staff", la="831")

    async def case():
        # the school's own API shows nothing by UPN, so look for the case via the LA's list of new cases
        from onward.person_key import person_key
        from onward.settings import Settings
        pkey = person_key(Settings().person_key_secret.get_secret_value(), good["upn"])
        return (await http.get(f"{urls['la_tracker']}/v1/cases", params={"person_key": pkey}, headers=la)).json()["items"]
    assert (await eventually(case))[0]["status"] == "referred_to_ncs"
    [found] = await read_records(infra.kafka, dlq_topic(LEAVER_SUBMITTED), 1, match=lambda r: bad["upn"].encode() in r.value)
    assert found is not None and found.key is None  # a UPN key is never copied to the DLQ
    reason = dict(found.headers)["dlq.reason"].decode()
    assert "upn:" in reason and "nc_year:" in reason and bad["upn"] not in reason


async def test_three_batches_of_2000_all_reach_the_ncs(http, urls, school, databases):
    batches = [[leaver() for _ in range(2000)] for _ in range(3)]
    keys = []
    for batch in batches:
        r = await http.post(f"{urls['school_exit']}/v1/leavers/batch", json={"leavers": batch}, headers=school,
                            timeout=60)
        assert r.json()["accepted"] == 2000
        keys += [x["person_key"] for x in r.json()["results"]]

    async def all_referred():
        rows = await _fetch(databases["ncs_referral"], "select count(*) from referrals where person_key = any($1)", keys)
        return rows[0][0] == len(keys)
    # Throughput is a `make bench` figure, never a pass/fail test: here only that every leaver arrives.
    assert len(set(keys)) == 6000
    await eventually(all_referred, timeout=300, interval=0.2)
