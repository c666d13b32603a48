"""The common event envelope. Events are immutable; readers ignore fields they do not know."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import ClassVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Envelope(BaseModel):
    """Fields every event carries. `event_id` is the idempotency key of every consumer."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    TOPIC: ClassVar[str]

    event_id: UUID = Field(default_factory=uuid4)
    event_type: str
    schema_version: int
    occurred_at: datetime = Field(default_factory=utcnow)
    producer: str
    correlation_id: UUID
    causation_id: UUID | None = None
    # Pseudonymous HMAC of the UPN/ULN: the Kafka key, so one young person's events stay ordered.
    person_key: str = Field(pattern=r"^[0-9a-f]{64}$")

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()
