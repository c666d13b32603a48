"""Each status has one definition: la_tracker's enums carry the event contract's values, and the
school's feedback maps every one of them onto a status the school's pages know."""
from __future__ import annotations

from typing import get_args

from schemas import events
from services.la_tracker import domain
from services.school_exit import domain as school_domain
from services.school_exit.handlers import onward_status


def test_la_tracker_case_statuses_are_the_events_case_statuses():
    assert [s.value for s in domain.CaseStatus] == list(get_args(events.CaseStatus))


def test_case_status_changed_refuses_a_status_that_is_not_a_case_status():
    schema = events.CaseStatusChanged.model_json_schema()["properties"]["status"]
    assert set(schema["enum"]) == set(domain.CASE_STATUSES) and "destination_confirmed" not in schema["enum"]


def test_every_case_status_is_something_the_school_can_be_shown():
    shown = {status: onward_status(status) for status in get_args(events.CaseStatus)}
    assert set(shown.values()) <= set(school_domain.ONWARD_STATUSES)
    assert (shown["closed"], shown["referred_to_ncs"], shown["neet"]) == ("closed", "referred_to_ncs", "with_la")


def test_a_live_referral_is_one_la_tracker_writes():
    assert domain.ACTIVE_REFERRAL <= set(domain.ReferralStatus)
    assert domain.referral_blocker(domain.NEET, domain.ReferralStatus.REQUESTED, True, False) == "referral_under_way"
    assert domain.referral_blocker(domain.NEET, domain.ReferralStatus.RETURNED_TO_LA, True, False) is None
