import json
import uuid
from datetime import date

import pytest
from pydantic import ValidationError

from schemas.events import LeaverRegistered
from schemas.topics import ALL_TOPICS, CONSUMED_BY, TOPICS, PoisonMessage, decode

PKEY = "a" * 64


def leaver_event(**over) -> LeaverRegistered:
    kw = dict(producer="test", correlation_id=uuid.uuid4(), person_key=PKEY, leaver_id=uuid.uuid4(),
              upn="H801200001001", given_name="Amira", family_name="Khan", date_of_birth=date(2008, 3, 14),
              home_postcode="DE1 2AA", school_laestab="8314001", nc_year=13, leaving_date=date(2026, 7, 17))
    return LeaverRegistered(**{**kw, **over})


def test_event_round_trips_through_its_topic():
    ev = leaver_event()
    assert decode(ev.TOPIC, ev.to_bytes()) == ev


def test_readers_ignore_unknown_fields():
    doc = json.loads(leaver_event().to_bytes())
    doc["added_in_a_later_minor_version"] = {"x": 1}
    assert decode(LeaverRegistered.TOPIC, json.dumps(doc).encode()).upn == "H801200001001"


def test_events_are_immutable():
    with pytest.raises(ValidationError):
        leaver_event().upn = "G80120000101A"


@pytest.mark.parametrize("raw, reason", [
    (b"\xff\xfe not json", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (json.dumps({"event_type": "ReferralRequested", "schema_version": 1}).encode(), "does not belong"),
    (json.dumps({"event_type": "LeaverRegistered", "schema_version": 2}).encode(), "schema_version 2"),
    (json.dumps({"event_type": "LeaverRegistered", "schema_version": 1}).encode(), "invalid LeaverRegistered"),
    (None, "empty"),
])
def test_poison_records_are_refused_with_a_reason(raw, reason):
    with pytest.raises(PoisonMessage, match=reason):
        decode(LeaverRegistered.TOPIC, raw)


def test_person_key_must_be_a_pseudonym_not_an_identifier():
    with pytest.raises(ValidationError):
        leaver_event(person_key="H801200001001")


def test_every_topic_is_versioned_and_every_consumed_topic_has_a_dlq():
    """Checked against who reads what (CONSUMED_BY), not against the list ALL_TOPICS is built from: a topic a
    worker reads without a `<topic>.dlq` beside it (say, one added to CONSUMED_BY only) fails here."""
    sources = [t for t in ALL_TOPICS if not t.endswith(".dlq")]
    assert set(TOPICS) <= set(sources) and all(t.endswith(".v1") for t in sources)
    missing = [t for t in CONSUMED_BY if t not in sources or f"{t}.dlq" not in ALL_TOPICS]
    assert not missing, f"consumed without a registered topic and DLQ: {missing}"
    assert not [t for t in ALL_TOPICS if t.endswith(".dlq.dlq")]
