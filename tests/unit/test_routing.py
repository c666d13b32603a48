"""Table-driven tests of docs/domain-rules.md section 5, each asserting the reason recorded."""
from datetime import date

import pytest

from services.la_tracker import domain
from services.la_tracker.domain import Policy, YoungPerson, route

TODAY = date(2026, 7, 20)
BASE = dict(nc_year=13, date_of_birth=date(2008, 3, 14), leaving_date=date(2026, 7, 17), consent_to_ncs=True)


def person(**over) -> YoungPerson:
    kw = {**BASE, **over}
    if "characteristics" in kw:
        kw["characteristics"] = frozenset(kw["characteristics"])
    return YoungPerson(**kw)


@pytest.mark.parametrize("over, open_case, status, reason, refer", [
    (dict(activity_code="230", activity_status="confirmed"), False, None, "destination_confirmed", False),
    (dict(activity_code="550", activity_status="confirmed"), False, None, "destination_confirmed_review_550", False),
    (dict(activity_code="230", activity_status="intended"), True, "awaiting_confirmation", "awaiting_confirmation", False),
    (dict(), True, "referred_to_ncs", "no_known_destination", True),
    (dict(activity_code="810", activity_status="confirmed"), True, "referred_to_ncs", "activity_810", True),
    (dict(activity_code="619", activity_status="confirmed"), True, "referred_to_ncs", "activity_619", True),
    (dict(consent_to_ncs=False), True, "not_known", "no_consent", False),
    (dict(consent_to_ncs=False, activity_code="619", activity_status="confirmed"), True, "neet", "no_consent", False),
    (dict(ehcp=True), True, "send_caseload", "send_caseload", False),
    (dict(characteristics={"160"}), True, "leaving_care", "leaving_care", False),
    (dict(characteristics={"110"}), True, "leaving_care", "leaving_care", False),
    (dict(objects_to_sharing=True), True, "not_known", "objects_to_sharing", False),
    (dict(activity_code="260", activity_status="confirmed"), False, None, "activity_recorded", False),
    # Year 12 leaver who is 17 on 31 August: the LA keeps them (still in its statutory cohort)
    (dict(nc_year=12, date_of_birth=date(2009, 3, 14)), True, "not_known", "under_18", False),
    # Year 12 leaver already academic age 18 next September: referred like a Year 13 leaver
    (dict(nc_year=12, date_of_birth=date(2008, 3, 14)), True, "referred_to_ncs", "no_known_destination", True),
])
def test_routing_rules(over, open_case, status, reason, refer):
    d = route(person(**over), Policy(), TODAY)
    assert (d.open_case, d.status, d.reason, d.refer) == (open_case, status, reason, refer)


def test_referral_delay_keeps_the_case_with_the_la_until_due():
    d = route(person(), Policy(referral_delay_days=14), TODAY)
    assert (d.status, d.reason, d.refer, d.refer_on) == ("not_known", "referral_delay", True, date(2026, 8, 3))


def test_no_policy_refers_without_consent_since_no_legal_basis_covers_it():
    """An old policy row saying consent_required=false refers nobody without consent (docs/domain-rules.md 4)."""
    d = route(person(consent_to_ncs=False), Policy(consent_required=False), TODAY)
    assert (d.refer, d.status, d.reason) == (False, "not_known", "no_consent")


def test_intended_destination_is_due_for_confirmation_by_1_november_of_the_leaving_year():
    d = route(person(activity_code="310", activity_status="intended"), Policy(confirmation_due_days=45), TODAY)
    assert d.due_on == date(2026, 11, 1)
    d = route(person(activity_code="310", activity_status="intended"), Policy(confirmation_due="10-15"), TODAY)
    assert d.due_on == date(2026, 10, 15)


def test_intended_destination_reported_after_the_la_date_gets_the_la_period():
    d = route(person(activity_code="310", activity_status="intended"), Policy(confirmation_due_days=45),
              date(2026, 11, 20))
    assert d.due_on == date(2027, 1, 4)


@pytest.mark.parametrize("code", ["615", "616"])
def test_start_date_agreed_is_not_referred_while_the_start_is_ahead(code):
    ahead = route(person(activity_code=code, activity_status="confirmed", activity_start=date(2026, 9, 7)),
                  Policy(), TODAY)
    assert (ahead.status, ahead.reason, ahead.refer_on) == ("neet", "start_date_agreed", date(2026, 9, 7))
    passed = route(person(activity_code=code, activity_status="confirmed", activity_start=date(2026, 7, 1)),
                   Policy(), TODAY)
    assert (passed.status, passed.refer_on) == ("referred_to_ncs", TODAY)


def test_lapsed_activity_routes_as_not_known():
    d = route(person(activity_code="330", activity_status="lapsed"), Policy(), TODAY)
    assert (d.open_case, d.status, d.reason) == (True, "referred_to_ncs", "activity_810")


@pytest.mark.parametrize("born, left, age", [
    (date(2008, 8, 31), date(2026, 7, 17), 18),
    (date(2008, 9, 1), date(2026, 7, 17), 17),
    (date(2008, 9, 1), date(2026, 9, 2), 18),  # left after 1 September: the following year's age
])
def test_academic_age_is_age_on_31_august_before_the_next_september(born, left, age):
    assert domain.academic_age_next_september(born, left) == age


@pytest.mark.parametrize("over, expected", [
    (dict(characteristics={"160"}), 1), (dict(characteristics={"110"}), 1), (dict(characteristics={"170"}), 2),
    (dict(characteristics={"180"}), 2), (dict(ehcp=True), 2), (dict(characteristics={"210"}), 3), (dict(), 3),
])
def test_priority_puts_the_most_vulnerable_first(over, expected):
    assert domain.priority(person(**over)) == expected


@pytest.mark.parametrize("code, status, reason", [
    ("330", "closed", "ncs_outcome_eet"), ("820", "not_known", "ncs_could_not_contact"),
    ("619", "neet", "ncs_outcome_not_eet"),
])
def test_ncs_outcomes(code, status, reason):
    assert domain.outcome_status(code) == (status, reason)
