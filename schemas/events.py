"""Version 1 of Onward's events. A breaking change is a new `.v2` topic plus an upcaster, never an edit here."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from schemas.envelope import Envelope


class Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Destination(Part):
    activity_code: str
    status: Literal["confirmed", "intended"]
    provider_ukprn: str | None = None


class Send(Part):
    ehcp: bool = False
    sen_support: bool = False


class Consent(Part):
    share_with_ncs: bool = False
    objects_to_sharing: bool = False
    source: str | None = None
    recorded_at: datetime | None = None


# NCCIS return fields a school's MIS holds (docs/domain-rules.md section 6): gender F/M/U(nknown)/W(ithheld) and the
# DfE main ethnicity codes. Optional on the leaver contract (added December 2026).
Gender = Literal["F", "M", "U", "W"]
Ethnicity = Literal["WBRI", "WIRI", "WROM", "WOTH", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN", "ABAN", "CHNE",
                    "AOTH", "BCRB", "BAFR", "BOTH", "OOTH", "REFU", "NOBT"]


class YoungPersonRequest(Part):
    """What a young person asked for on the /you/ pages (issue 17), carried on a referral to the adviser."""

    contact_by: str | None = None
    contact_time: str | None = None
    in_their_words: str | None = None
    asked_at: datetime | None = None


class LeaverRegistered(Envelope):
    """A school reported a leaver (or changed what it reported: `revision` > 1)."""

    TOPIC = "school-exit.leaver-registered.v1"
    event_type: Literal["LeaverRegistered"] = "LeaverRegistered"
    schema_version: Literal[1] = 1
    leaver_id: UUID
    revision: int = 1
    upn: str
    uln: str | None = None
    given_name: str
    family_name: str
    date_of_birth: date
    home_postcode: str
    address_lines: list[str] = []
    email: str | None = None
    phone: str | None = None
    school_laestab: str
    nc_year: int
    leaving_date: date
    destination: Destination | None = None
    send: Send = Send()
    characteristics: list[str] = []
    consent: Consent = Consent()
    gender: Gender | None = None
    ethnicity: Ethnicity | None = None


class DestinationReported(Envelope):
    """A school reported a leaver's destination after the leaver was registered."""

    TOPIC = "school-exit.destination-reported.v1"
    event_type: Literal["DestinationReported"] = "DestinationReported"
    schema_version: Literal[1] = 1
    leaver_id: UUID
    school_laestab: str
    destination: Destination


# la_tracker's case statuses (docs/contracts.md): the one list the event carries, which la_tracker's
# domain.CaseStatus names and school_exit maps onto what a school sees.
CaseStatus = Literal["awaiting_confirmation", "not_known", "neet", "referred_to_ncs", "send_caseload", "leaving_care",
                     "closed", "transferred"]


class CaseStatusChanged(Envelope):
    """An LA case was opened or changed status; feedback for the school that reported the leaver."""

    TOPIC = "la-tracker.case-status-changed.v1"
    event_type: Literal["CaseStatusChanged"] = "CaseStatusChanged"
    schema_version: Literal[1] = 1
    case_id: UUID
    leaver_id: UUID | None = None
    responsible_la: str
    status: CaseStatus
    reason: str | None = None
    activity_code: str | None = None


class ReferralRequested(Envelope):
    """An LA hands a young person to the NCS: the handoff fields only (data minimisation)."""

    TOPIC = "la-tracker.referral-requested.v1"
    event_type: Literal["ReferralRequested"] = "ReferralRequested"
    schema_version: Literal[1] = 1
    referral_id: UUID
    case_id: UUID
    responsible_la: str
    ncs_area: str
    reason: str
    priority: int
    given_name: str
    family_name: str
    date_of_birth: date
    email: str | None = None
    phone: str | None = None
    postcode_district: str
    send_ehcp: bool = False
    sen_support: bool = False
    consent: Consent
    # Added December 2026 (optional, additive): what the LA learned, in words, for a warm handoff.
    reason_text: str | None = None
    wants: str | None = None
    best_time: str | None = None
    best_channel: str | None = None
    access_needs: str | None = None
    school_laestab: str | None = None
    school_name: str | None = None
    la_contact_notes: str | None = None  # only with the young person's agreement to share them
    la_officer_name: str | None = None
    la_officer_contact: str | None = None
    return_after_attempts: int | None = None  # the LA's could-not-contact numbers
    return_after_days: int | None = None
    # Issue 17: the young person's own request (their words, how and when to contact them), when they asked.
    young_person_request: YoungPersonRequest | None = None


class ReferralWithdrawn(Envelope):
    TOPIC = "la-tracker.referral-withdrawn.v1"
    event_type: Literal["ReferralWithdrawn"] = "ReferralWithdrawn"
    schema_version: Literal[1] = 1
    referral_id: UUID
    case_id: UUID
    reason: str


class ReferralOutcomeRecorded(Envelope):
    """An NCS adviser's outcome: an activity (EET closes the case) or could-not-contact (back to the LA)."""

    TOPIC = "ncs-referral.referral-outcome.v1"
    event_type: Literal["ReferralOutcomeRecorded"] = "ReferralOutcomeRecorded"
    schema_version: Literal[1] = 1
    referral_id: UUID
    case_id: UUID
    outcome: Literal["activity", "could_not_contact"]
    activity_code: str
    # Added December 2026 (optional, additive): what the adviser learned, for the LA's timeline.
    note: str | None = None
    provider: str | None = None
    start_date: date | None = None
    adviser_name: str | None = None


class PersonErasureRequested(Envelope):
    """An administrator asked for a young person's personal data to be erased (UK GDPR Article 17).

    school_exit has erased its own copy in the same transaction; la_tracker erases the person and
    every record merged with them, then announces PersonErased. Carries pseudonymous keys only."""

    TOPIC = "school-exit.person-erasure-requested.v1"
    event_type: Literal["PersonErasureRequested"] = "PersonErasureRequested"
    schema_version: Literal[1] = 1
    erasure_id: UUID
    reason: str


class PersonErased(Envelope):
    """la_tracker erased a young person: `person_keys` are every key the person was known by
    (aliases, merged records), so ncs_referral erases its referrals under any of them."""

    TOPIC = "la-tracker.person-erased.v1"
    event_type: Literal["PersonErased"] = "PersonErased"
    schema_version: Literal[1] = 1
    erasure_id: UUID
    person_keys: list[str]
