"""The topic registry: which event each topic carries, and the decoding every consumer shares."""
from __future__ import annotations

import json

from pydantic import ValidationError

from schemas.envelope import Envelope
from schemas.events import (
    CaseStatusChanged,
    DestinationReported,
    LeaverRegistered,
    PersonErased,
    PersonErasureRequested,
    ReferralOutcomeRecorded,
    ReferralRequested,
    ReferralWithdrawn,
)
from schemas.events_young_person import ConsentWithdrawn, DestinationSelfReported, HelpRequested

EVENTS: tuple[type[Envelope], ...] = (
    LeaverRegistered,
    DestinationReported,
    CaseStatusChanged,
    ReferralRequested,
    ReferralWithdrawn,
    ReferralOutcomeRecorded,
    PersonErasureRequested,
    PersonErased,
    DestinationSelfReported,
    HelpRequested,
    ConsentWithdrawn,
)
TOPICS: dict[str, type[Envelope]] = {e.TOPIC: e for e in EVENTS}


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


# Integrations that publish straight to Kafka send the POST /v1/leavers body here (not an event:
# school_exit validates it exactly as over HTTP and turns it into LeaverRegistered).
LEAVER_SUBMITTED = "school-exit.leaver-submitted.v1"

ALL_TOPICS: tuple[str, ...] = (*TOPICS, LEAVER_SUBMITTED, *(dlq_topic(t) for t in (*TOPICS, LEAVER_SUBMITTED)))

# The services, by name: the one list (onward/processes.py gives each its port and processes, onward/auth.py
# its token audience, onward/kafka_security.py its Kafka user and ACLs).
SERVICES: tuple[str, ...] = ("school_exit", "la_tracker", "ncs_referral")

# Who writes and who reads each topic. Kafka's ACLs are derived from this (onward/kafka_security.py);
# a test checks it against what each service's worker consumes and its events' producers.
PRODUCED_BY: dict[str, str] = {
    LeaverRegistered.TOPIC: "school_exit", DestinationReported.TOPIC: "school_exit",
    PersonErasureRequested.TOPIC: "school_exit",
    CaseStatusChanged.TOPIC: "la_tracker", ReferralRequested.TOPIC: "la_tracker",
    ReferralWithdrawn.TOPIC: "la_tracker", PersonErased.TOPIC: "la_tracker",
    ReferralOutcomeRecorded.TOPIC: "ncs_referral",
    # The young person's answers: la_tracker's /you/ pages write them, its stream worker applies them.
    DestinationSelfReported.TOPIC: "la_tracker", HelpRequested.TOPIC: "la_tracker", ConsentWithdrawn.TOPIC: "la_tracker",
    LEAVER_SUBMITTED: "intake",  # school MIS integrations publishing straight to Kafka
}
CONSUMED_BY: dict[str, tuple[str, ...]] = {
    LEAVER_SUBMITTED: ("school_exit",), CaseStatusChanged.TOPIC: ("school_exit",),
    LeaverRegistered.TOPIC: ("la_tracker",), DestinationReported.TOPIC: ("la_tracker",),
    ReferralOutcomeRecorded.TOPIC: ("la_tracker",), PersonErasureRequested.TOPIC: ("la_tracker",),
    ReferralRequested.TOPIC: ("ncs_referral",), ReferralWithdrawn.TOPIC: ("ncs_referral",),
    PersonErased.TOPIC: ("ncs_referral",),
    DestinationSelfReported.TOPIC: ("la_tracker",), HelpRequested.TOPIC: ("la_tracker",),
    ConsentWithdrawn.TOPIC: ("la_tracker",),
}


class PoisonMessage(Exception):
    """A record that can never be processed; it goes to the topic's DLQ with this reason."""


def decode(topic: str, raw: bytes | None) -> Envelope:
    model = TOPICS.get(topic)
    if model is None:
        raise PoisonMessage(f"no event is registered for topic {topic}")
    if raw is None:
        raise PoisonMessage("empty record value")
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PoisonMessage(f"value is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise PoisonMessage("value is not a JSON object")
    expected_type = model.model_fields["event_type"].default
    if doc.get("event_type") != expected_type:
        raise PoisonMessage(f"event_type {doc.get('event_type')!r} does not belong on {topic} (expects {expected_type})")
    expected_version = model.model_fields["schema_version"].default
    if doc.get("schema_version") != expected_version:
        raise PoisonMessage(f"schema_version {doc.get('schema_version')!r} is not {expected_version} on {topic}")
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise PoisonMessage(f"invalid {expected_type}: {fields}") from None
