"""Rule 5.8 (revised) as a pure decision: who a report is, and what it may change."""
import random
from datetime import date

from onward.cohort import make_temporary_upn, make_upn
from services.la_tracker.domain import Identity, match_identity, protected_facts

DOB = date(2007, 11, 3)


def who(key: str, upn: str | None, *, uln=None, given="amira", family="okafor", dob=DOB, postcode="DE223QW",
        gender=None, la="831") -> Identity:
    return Identity(key, upn, uln, given, family, dob, postcode, gender, la)


def test_twins_with_different_upns_and_given_names_are_two_people_and_no_review():
    held = who("a", make_upn("831", 1))
    twin = who("b", make_upn("831", 2), given="zara")
    assert match_identity(twin, None, [held]).matched_by == "new"
    assert match_identity(twin, None, [held]).review == ()


def test_same_upn_with_another_given_name_changes_nothing():
    held = who("a", make_upn("831", 1))
    m = match_identity(who("a", make_upn("831", 1), given="kofi"), held, [])
    assert (m.person_key, m.conflict) == ("a", "upn_details_differ")


def test_same_uln_with_another_dob_is_a_907_review_never_a_merge():
    held = who("a", make_upn("831", 1), uln="1234567899")
    m = match_identity(who("b", make_upn("831", 2), uln="1234567899", dob=date(2008, 1, 9)), None, [held])
    assert (m.matched_by, m.review) == ("new", (("a", "uln_shared_details_differ"),))


def test_same_uln_and_facts_merge_only_when_a_upn_is_temporary():
    held = who("a", make_upn("831", 1), uln="1234567899")
    assert match_identity(who("b", make_temporary_upn("831", 2), uln="1234567899", given="amy"), None,
                          [held]).matched_by == "uln"
    m = match_identity(who("b", make_upn("831", 2), uln="1234567899"), None, [held])
    assert (m.matched_by, m.review) == ("new", (("a", "same_uln_different_upn"),))


def test_temporary_upn_matches_by_name_dob_and_postcode_or_gender():
    held = who("a", make_temporary_upn("831", 1), gender="F")
    assert match_identity(who("b", make_upn("831", 2)), None, [held]).matched_by == "name_dob"
    assert match_identity(who("b", make_upn("831", 2), postcode="NW12DB", gender="F"), None,
                          [held]).matched_by == "name_dob"
    m = match_identity(who("b", make_upn("831", 2), postcode="NW12DB", gender="M"), None, [held])
    assert (m.matched_by, m.review) == ("new", (("a", "same_name_and_dob"),))


def test_same_name_and_dob_with_two_permanent_upns_is_a_review_for_an_la_holding_both():
    held = who("a", make_upn("831", 1))
    assert match_identity(who("b", make_upn("831", 2)), None, [held]).review == (("a", "same_name_and_dob"),)
    assert match_identity(who("b", make_upn("202", 2), la="202"), None, [held]).review == ()


def test_distinct_permanent_upns_never_merge_whatever_else_they_share():
    rng = random.Random(5)
    for _ in range(500):
        def draw(key, serial):
            return who(key, make_upn("831", serial), uln=rng.choice(["1234567899", None]),
                       given=rng.choice(["amira", "zara"]), dob=rng.choice([DOB, date(2007, 11, 4)]),
                       postcode=rng.choice(["DE223QW", "DE12AA"]), gender=rng.choice(["F", "M", None]))
        held = [draw(str(k), k) for k in range(1, 6)]
        assert match_identity(draw("new", 99), None, held).matched_by == "new"


FACTS = {"consent_to_ncs": True, "objects_to_sharing": False, "consent_source": "school_leaver_report"}


def test_an_objection_from_any_report_stands():
    held = {**FACTS, "objects_to_sharing": True}
    assert protected_facts(held, FACTS, same_school=True)["objects_to_sharing"] is True


def test_withdrawn_consent_stays_withdrawn_and_another_school_cannot_give_consent():
    withdrawn = protected_facts(FACTS, {**FACTS, "consent_to_ncs": False}, same_school=False)
    assert (withdrawn["consent_to_ncs"], withdrawn["consent_withdrawn"]) == (False, True)
    assert protected_facts(withdrawn, FACTS, same_school=True)["consent_to_ncs"] is False
    never = {**FACTS, "consent_to_ncs": False}
    assert protected_facts(never, FACTS, same_school=False)["consent_to_ncs"] is False
    assert protected_facts(never, FACTS, same_school=True)["consent_to_ncs"] is True


def test_a_near_identical_name_without_a_permanent_upn_is_a_review_item_never_a_merge():
    held = who("a", make_upn("831", 1), given="aidan")
    m = match_identity(who("b", make_temporary_upn("831", 2), given="aiden"), None, [held])
    assert (m.person_key, m.matched_by, m.review) == ("b", "new", (("a", "near_identical_name"),))
    swapped = match_identity(who("b", None, given="okafor", family="amira"), None, [who("a", make_upn("831", 1))])
    assert swapped.review == (("a", "near_identical_name"),)


def test_a_near_identical_name_needs_the_same_dob_the_same_la_and_the_postcode_or_family_name():
    held = who("a", make_upn("831", 1), family="smith")
    near = dict(given="amira", family="smyth")
    assert match_identity(who("b", None, **near, postcode="NW12DB"), None, [held]).review == ()
    assert match_identity(who("b", None, **near, dob=date(2007, 11, 4)), None, [held]).review == ()
    assert match_identity(who("b", None, **near, la="202"), None, [held]).review == ()
    assert match_identity(who("b", None, **near), None, [held]).review == (("a", "near_identical_name"),)
    moved = who("b", None, given="amyra", family="smith", postcode="NW12DB")  # the family name agrees
    assert match_identity(moved, None, [held]).review == (("a", "near_identical_name"),)


def test_twins_aidan_and_aiden_with_two_permanent_upns_are_two_people_and_no_review():
    held = who("a", make_upn("831", 1), given="aidan")
    m = match_identity(who("b", make_upn("831", 2), given="aiden"), None, [held])
    assert (m.matched_by, m.review) == ("new", ())
