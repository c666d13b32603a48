"""Version 1 of the young person's own answers (issue 17), from la_tracker's `/you/` pages.

The pages never change a case themselves: each answer is one of these events, written to the outbox
with the page's own change, and la_tracker's stream worker applies it like any other report.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from schemas.envelope import Envelope


class _Answer(Envelope):
    """What every answer carries: the link it came through and the case that link was sent for."""

    link_id: UUID
    case_id: UUID | None = None


class DestinationSelfReported(_Answer):
    """A young person said what they are doing now: `answer` as asked, `activity_code` as NCCIS counts it
    (none for "something else"), with the provider, start date and their own words when given."""

    TOPIC = "young-person.destination-self-reported.v1"
    event_type: Literal["DestinationSelfReported"] = "DestinationSelfReported"
    schema_version: Literal[1] = 1
    answer: str
    activity_code: str | None = None
    provider_name: str | None = Field(None, max_length=200)
    start_date: date | None = None
    in_their_words: str | None = Field(None, max_length=2000)


class HelpRequested(_Answer):
    """A young person asked for help from a careers adviser, consenting to share with the NCS
    (source `young_person_online`, at `consent_recorded_at`), with how and when to contact them."""

    TOPIC = "young-person.help-requested.v1"
    event_type: Literal["HelpRequested"] = "HelpRequested"
    schema_version: Literal[1] = 1
    share_with_ncs: bool
    consent_recorded_at: datetime
    contact_by: str | None = None
    contact_time: str | None = None
    in_their_words: str | None = Field(None, max_length=2000)


class ConsentWithdrawn(_Answer):
    """A young person stopped sharing with one recipient (`ncs`); a live referral is withdrawn."""

    TOPIC = "young-person.consent-withdrawn.v1"
    event_type: Literal["ConsentWithdrawn"] = "ConsentWithdrawn"
    schema_version: Literal[1] = 1
    recipient: Literal["ncs"]
    withdrawn_at: datetime

