"""Routing policy and case rules (docs/domain-rules.md section 5). Pure: standard library and NCCIS vocabulary only."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from schemas import nccis
from schemas.consent import referral_consent_blocker
from services.la_tracker import name_likeness


class CaseStatus(StrEnum):
    """A case's status (docs/contracts.md, fixed). The values are the event contract's
    (schemas.events.CaseStatus, which school_exit reads); tests/unit/test_vocabulary.py holds them equal."""

    AWAITING_CONFIRMATION = "awaiting_confirmation"
    NOT_KNOWN = "not_known"
    NEET = "neet"
    REFERRED_TO_NCS = "referred_to_ncs"
    SEND_CASELOAD = "send_caseload"
    LEAVING_CARE = "leaving_care"
    CLOSED = "closed"
    TRANSFERRED = "transferred"


class ReferralStatus(StrEnum):
    """A case's referral as la_tracker records it (the NCS keeps its own statuses: ncs_referral/domain.py)."""

    REQUESTED = "requested"  # sent to the NCS; the only status under which a referral is live here
    WITHDRAWN = "withdrawn"  # withdrawn by the LA (merge, transfer, an EET destination, consent withdrawn)
    CLOSED = "closed"  # the NCS's outcome closed the case
    RETURNED_TO_LA = "returned_to_la"  # the NCS's outcome left the case with the LA


AWAITING_CONFIRMATION, NOT_KNOWN, NEET = CaseStatus.AWAITING_CONFIRMATION, CaseStatus.NOT_KNOWN, CaseStatus.NEET
REFERRED_TO_NCS, SEND_CASELOAD = CaseStatus.REFERRED_TO_NCS, CaseStatus.SEND_CASELOAD
LEAVING_CARE, CLOSED, TRANSFERRED = CaseStatus.LEAVING_CARE, CaseStatus.CLOSED, CaseStatus.TRANSFERRED
ACTIVE_REFERRAL = frozenset({ReferralStatus.REQUESTED})  # a referral under way: no second one, no re-routing
LAPSED = "lapsed"  # activity status once its currency has lapsed: the activity is kept, the person is not known
START_DATE_AGREED = frozenset({"615", "616"})
CASE_STATUSES = tuple(CaseStatus)
OPEN_STATUSES = frozenset(CASE_STATUSES) - {CLOSED, TRANSFERRED}

# Priority 1 comes first in the queue.
_HIGHEST = frozenset({nccis.LOOKED_AFTER, nccis.CARE_LEAVER})
_HIGH = frozenset({"120", "140", "170", "180"})  # teenage parent, carer, YOT, pregnant


@dataclass(frozen=True)
class Policy:
    """An LA's numbers (stored per LA in the database; these are the national defaults)."""

    referral_delay_days: int = 0
    confirmation_due_days: int = 30
    consent_required: bool = True  # always True: no legal basis covers an LA-to-NCS referral without consent
    contact_attempts: int = 3  # NCS "could not contact": attempts on different days or channels...
    contact_min_days: int = 7  # ...spread over at least this many days
    confirmation_due: str = "11-01"  # MM-DD of the leaving year by which an intended destination is confirmed


@dataclass(frozen=True)
class YoungPerson:
    """What routing needs to know about a reported leaver."""

    nc_year: int
    date_of_birth: date
    leaving_date: date
    activity_code: str | None = None
    activity_status: str | None = None  # confirmed | intended | lapsed (currency lapsed: counts as not known)
    ehcp: bool = False
    characteristics: frozenset[str] = field(default_factory=frozenset)
    consent_to_ncs: bool = False
    objects_to_sharing: bool = False
    activity_start: date | None = None


@dataclass(frozen=True)
class Decision:
    open_case: bool
    status: CaseStatus | None
    reason: str
    refer: bool = False
    refer_on: date | None = None
    due_on: date | None = None


def academic_age_next_september(born: date, left: date) -> int:
    """Academic age (age on 31 August) for the academic year that starts on the 1 September after leaving."""
    next_sept = date(left.year if left < date(left.year, 9, 1) else left.year + 1, 9, 1)
    last_aug = next_sept - timedelta(days=1)
    return last_aug.year - born.year - ((last_aug.month, last_aug.day) < (born.month, born.day))


def priority(person: YoungPerson) -> int:
    """1 = care leaver or looked after; 2 = other vulnerability or an EHC plan; 3 = everyone else."""
    if person.characteristics & _HIGHEST:
        return 1
    if person.characteristics & _HIGH or person.ehcp:
        return 2
    return 3


def _status_for_activity(code: str | None) -> str:
    return NEET if code is not None and nccis.is_neet(code) else NOT_KNOWN


def route(person: YoungPerson, policy: Policy, today: date) -> Decision:
    """Decide what the LA does with a reported young person; every decision carries its reason."""
    code, state = person.activity_code, person.activity_status
    if state == LAPSED:
        code = "810"
    if code is not None and nccis.is_eet(code):
        if state == "confirmed":
            # 550: sources disagree whether it is EET; treated as EET, and the reason says so for review.
            flagged = code in nccis.FLAGGED_ACTIVITY_CODES
            return Decision(False, None, "destination_confirmed_review_550" if flagged else "destination_confirmed")
        return Decision(True, AWAITING_CONFIRMATION, "awaiting_confirmation",
                        due_on=confirmation_due_on(person.leaving_date, policy, today))
    if code is not None and state == "confirmed" and not (nccis.is_neet(code) or nccis.is_not_known(code)):
        # 260 gap year, 530 re-engagement, 710 custody: recorded, followed up at review, no case now.
        return Decision(False, None, "activity_recorded")
    status = _status_for_activity(code)
    if person.ehcp:
        return Decision(True, SEND_CASELOAD, "send_caseload")
    if person.characteristics & _HIGHEST:
        return Decision(True, LEAVING_CARE, "leaving_care")
    if person.nc_year < 13 and academic_age_next_september(person.date_of_birth, person.leaving_date) < 18:
        return Decision(True, status, "under_18")
    blocker = referral_consent_blocker(person.consent_to_ncs, person.objects_to_sharing)
    if blocker:
        return Decision(True, status, blocker)
    if code in START_DATE_AGREED and person.activity_start is not None and person.activity_start > today:
        # A start is agreed: the NCS is not asked while it is ahead; if it passes unchanged, refer then.
        return Decision(True, status, "start_date_agreed", refer=True, refer_on=person.activity_start)
    if policy.referral_delay_days > 0:
        return Decision(True, status, "referral_delay", refer=True,
                        refer_on=today + timedelta(days=policy.referral_delay_days))
    return Decision(True, REFERRED_TO_NCS, "no_known_destination" if code is None else f"activity_{code}",
                    refer=True, refer_on=today)


def confirmation_due_on(left: date, policy: Policy, today: date) -> date:
    """An intended destination is confirmed by the LA's date (default 1 November) of the leaving year, when
    the DfE's activity survey counts it (docs/domain-rules.md 6); one reported after that date gets the LA's period."""
    month, day = (int(part) for part in policy.confirmation_due.split("-"))
    due = date(left.year, month, min(day, 28 if month == 2 else day))
    return due if due > today else today + timedelta(days=policy.confirmation_due_days)


def outcome_status(activity_code: str) -> tuple[str, str]:
    """Case status and reason after an NCS outcome (docs/domain-rules.md 5.7)."""
    if nccis.is_eet(activity_code):
        return CLOSED, "ncs_outcome_eet"
    if activity_code == nccis.CANNOT_BE_CONTACTED:
        return NOT_KNOWN, "ncs_could_not_contact"
    return _status_for_activity(activity_code), "ncs_outcome_not_eet"


def normalise_name(name: str) -> str:
    """Exact-match form of a name: Unicode NFKC, case-folded, single spaces, one kind of apostrophe."""
    text = unicodedata.normalize("NFKC", name).casefold().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split())


def match_key(family_name: str, date_of_birth: date, postcode: str) -> str:
    """Normalised family name | DOB | postcode (kept for reports and indexes; no longer a reason to merge)."""
    return f"{normalise_name(family_name)}|{date_of_birth.isoformat()}|{postcode.replace(' ', '').upper()}"


def identity(given_name: str, family_name: str, date_of_birth: date, postcode: str) -> dict:
    """The normalised columns matching runs on."""
    return {"family_norm": normalise_name(family_name), "given_norm": normalise_name(given_name),
            "dob": date_of_birth, "postcode": postcode.replace(" ", "").upper(),
            "match_key": match_key(family_name, date_of_birth, postcode)}


def is_temporary_upn(upn: str | None) -> bool:
    """A temporary UPN ends in a letter (docs/domain-rules.md, identifiers); no UPN counts as temporary for matching."""
    return not upn or upn[-1].isalpha()


@dataclass(frozen=True)
class Identity:
    """Who a report, or a young person already held, says they are (names normalised)."""

    person_key: str
    upn: str | None
    uln: str | None
    given_norm: str
    family_norm: str
    dob: date
    postcode: str
    gender: str | None = None
    la: str | None = None


@dataclass(frozen=True)
class IdentityMatch:
    """Rule 5.8's answer for one report. `conflict`: the report changes nothing and goes to review."""

    person_key: str
    matched_by: str  # upn | uln | name_dob | new
    conflict: str | None = None
    review: tuple[tuple[str, str], ...] = ()


def _same_facts(a: Identity, b: Identity) -> bool:
    return (a.given_norm, a.family_norm, a.dob) == (b.given_norm, b.family_norm, b.dob)


def _permanent_upns_differ(a: Identity, b: Identity) -> bool:
    return not (is_temporary_upn(a.upn) or is_temporary_upn(b.upn)) and a.upn != b.upn


def match_identity(report: Identity, held: Identity | None, others: list[Identity]) -> IdentityMatch:
    """Rule 5.8 (revised). `held`: the young person already known by this report's UPN (its key or an
    alias); `others`: people sharing its ULN, or its given name + family name + DOB, or (for a report
    without a permanent UPN) its DOB and postcode or family name in its LA.

    Same UPN: the same person, unless given name, family name or DOB disagree (then a review item and
    no change). Else the same ULN with family name and DOB agreeing; a shared ULN with other facts is
    NCCIS error 907 (review). Else, when either side has no permanent UPN, given + family name + DOB
    with postcode or gender agreeing. Two different permanent UPNs are never merged automatically:
    alike in name and DOB they are a review item for an LA holding both; with different given names
    (twins, even Aidan and Aiden) they are simply two people. Near-identical names are never a merge."""
    if held is not None:
        return IdentityMatch(held.person_key, "upn", None if _same_facts(report, held) else "upn_details_differ")
    review: list[tuple[str, str]] = []
    for other in others:
        if report.uln is None or other.uln != report.uln:
            continue
        if (other.family_norm, other.dob) != (report.family_norm, report.dob):
            review.append((other.person_key, "uln_shared_details_differ"))
        elif _permanent_upns_differ(report, other):
            review.append((other.person_key, "same_uln_different_upn"))
        else:
            return IdentityMatch(other.person_key, "uln")
    for other in others:
        if any(key == other.person_key for key, _ in review):
            continue
        gender_agrees = report.gender is not None and report.gender == other.gender
        if (_same_facts(report, other) and not _permanent_upns_differ(report, other)
                and (report.postcode == other.postcode or gender_agrees)):
            return IdentityMatch(other.person_key, "name_dob")
        reason = _looks_alike(report, other)
        if reason and other.la == report.la:  # a review is work for the LA that holds both people
            review.append((other.person_key, reason))
    return IdentityMatch(report.person_key, "new", review=tuple(review))


def _looks_alike(report: Identity, other: Identity) -> str | None:
    """Why two people not matched by rule 5.8 are still a review item (None: they are not): the same given
    name + family name + DOB; or, when one has no permanent UPN, the same DOB and postcode or family name
    with near-identical names (a misspelling, names swapped, a double family name and one part of it)."""
    if _same_facts(report, other):
        return "same_name_and_dob"
    if (other.dob != report.dob or _permanent_upns_differ(report, other)
            or (other.postcode != report.postcode and other.family_norm != report.family_norm)):
        return None
    near = name_likeness.near_identical(report.given_norm, report.family_norm, other.given_norm, other.family_norm)
    return "near_identical_name" if near else None


def protected_facts(held: dict, reported: dict, same_school: bool) -> dict:
    """What a later report may change of the routing facts: everything but protection, which never goes
    down (5.8). An objection to sharing stands; a consent withdrawn (by any source) stays withdrawn until
    the young person says otherwise to staff; only the school that reported the person may give consent
    the first report lacked."""
    objects = held["objects_to_sharing"] or reported["objects_to_sharing"]
    withdrawn = held.get("consent_withdrawn", False) or (held["consent_to_ncs"] and not reported["consent_to_ncs"])
    consent = reported["consent_to_ncs"] and not withdrawn and (held["consent_to_ncs"] or same_school)
    facts = {**reported, "objects_to_sharing": objects, "consent_to_ncs": consent, "consent_withdrawn": withdrawn}
    if consent == held["consent_to_ncs"]:  # the consent record keeps its own source and time
        facts |= {k: held.get(k) for k in ("consent_source", "consent_recorded_at", "consent_recorded_by")
                  if k in held}
    return facts


def due_to_lapse(ascertained: date, activity_code: str, currency_days: dict[str, int]) -> date:
    """When a recorded activity stops being current (per-code periods are configuration)."""
    days = currency_days.get(activity_code) or currency_days.get(nccis.activity_group(activity_code).value) \
        or currency_days["default"]
    return ascertained + timedelta(days=days)


def academic_age_on(born: date, on: date) -> int:
    """Age on the 31 August that starts the academic year containing `on`."""
    start_year = on.year if on >= date(on.year, 9, 1) else on.year - 1
    aug31 = date(start_year, 8, 31)
    return aug31.year - born.year - ((aug31.month, aug31.day) < (born.month, born.day))


def in_nccis_cohort(born: date, ehcp: bool, period_end: date) -> bool:
    """Statutory tracking cohort: academic age 16-17, or 18-24 with an EHC plan (docs/domain-rules.md 3)."""
    age = academic_age_on(born, period_end)
    return 16 <= age <= 17 or (ehcp and 18 <= age <= 24)


def referral_blocker(status: str, referral_status: str | None, consent_to_ncs: bool,
                     objects_to_sharing: bool) -> str | None:
    """Why a member of staff cannot refer this case now (None: they can): an open case, no referral
    under way, consent recorded and no objection."""
    if status not in OPEN_STATUSES:
        return f"case_{status}"
    if referral_status in ACTIVE_REFERRAL:
        return "referral_under_way"
    return referral_consent_blocker(consent_to_ncs, objects_to_sharing)


# Reasons in words, for the pages and the NCS handoff (one definition, beside the reasons' rules).
REASON_TEXT = {
    "no_known_destination": "No known destination after leaving school",
    "awaiting_confirmation": "Intended destination not yet confirmed",
    "send_caseload": "Has an EHC plan: stays with the LA's SEND team",
    "leaving_care": "Looked after or a care leaver: stays with the leaving-care team",
    "under_18": "Under 18: the LA keeps tracking them",
    "objects_to_sharing": "Objects to their details being shared",
    "no_consent": "No consent to share with the National Careers Service yet",
    "referral_delay": "Waiting for the LA's referral delay to pass",
    "ncs_could_not_contact": "The National Careers Service could not contact them",
    "ncs_outcome_eet": "In education, employment or training (from the National Careers Service)",
    "ncs_outcome_not_eet": "Not in education, employment or training (from the National Careers Service)",
    "moved_to_another_la": "Moved to another LA",
    "merged_duplicate": "Merged with another record of the same young person",
    "destination_confirmed": "Destination confirmed",
    "destination_confirmed_review_550": "Destination confirmed (550: check whether it counts as EET)",
    "activity_recorded": "Activity recorded",
}


def reason_text(reason: str | None) -> str:
    """A case's reason in plain English; `activity_NNN` names the NCCIS activity."""
    if not reason:
        return ""
    if reason in REASON_TEXT:
        return REASON_TEXT[reason]
    if reason.startswith("activity_"):
        code = reason.removeprefix("activity_")
        return f"Activity {code} – {nccis.ACTIVITY_CODES.get(code, ('not known',))[0]}"
    return reason.replace("_", " ").capitalize()
