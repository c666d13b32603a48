"""Casework rules without I/O: search, formula-safe CSV, GOV.UK date inputs, dates and times in words,
and the one rule that decides whether a case can be referred."""
from datetime import date, datetime, timezone

import pytest

from onward.web import date_from_parts
from onward.words import la_name, london_time, long_date
from services.la_tracker.domain import reason_text, referral_blocker
from services.la_tracker.worklist import parse_search, safe_cell, to_csv


@pytest.mark.parametrize("q, want", [
    ("2008-08-27", ("dob", date(2008, 8, 27))), ("1234567899", ("uln", "1234567899")),
    ("h801200001001", ("upn", "H801200001001")), ("Amira  KHAN", ("name", ["amira", "khan"])),
    ("o'neil%_", ("name", ["o'neil"])),
])
def test_a_search_is_a_dob_uln_upn_or_name_parts(q, want):
    assert parse_search(q) == want


def test_a_date_of_birth_that_does_not_exist_is_refused():
    with pytest.raises(ValueError):
        parse_search("2008-02-30")


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_a_spreadsheet_would_run_start_with_a_quote(cell):
    assert safe_cell(cell) == "'" + cell
    assert "'=cmd" in to_csv([{"given_name": "=cmd", "family_name": "Khan", "reason": "no_consent"}])


def test_ordinary_csv_cells_are_left_alone():
    assert safe_cell("Khan") == "Khan" and safe_cell(None) == "" and safe_cell(3) == "3"


@pytest.mark.parametrize("parts, want", [(("27", "8", "2026"), "2026-08-27"), (("", "", ""), None),
                                         (("31", "2", "2026"), "2026-02-31"), (("x", "2", "2026"), "2026-2-x!")])
def test_a_govuk_date_input_becomes_one_iso_date_or_stays_wrong(parts, want):
    assert date_from_parts(*parts) == want


def test_dates_read_as_people_write_them_and_times_are_london_time():
    assert long_date("2008-08-27") == "27 August 2008"
    assert london_time(datetime(2026, 7, 1, 15, 5, tzinfo=timezone.utc)) == "1 July 2026 at 4:05pm"  # BST
    assert london_time("2026-12-01T00:30:00+00:00") == "1 December 2026 at 12:30am"  # GMT
    assert la_name("831") == "Derby"


def test_a_case_can_be_referred_only_when_open_free_and_consented():
    assert referral_blocker("not_known", None, True, False) is None
    assert referral_blocker("not_known", None, False, False) == "no_consent"
    assert referral_blocker("not_known", None, True, True) == "objects_to_sharing"
    assert referral_blocker("referred_to_ncs", "requested", True, False) == "referral_under_way"
    assert referral_blocker("closed", None, True, False) == "case_closed"


def test_reasons_read_in_words():
    assert reason_text("no_consent").startswith("No consent")
    assert reason_text("activity_619") == "Activity 619 – " + reason_text("activity_619").split(" – ")[1]


def test_unanswered_attempts_count_once_per_day_and_channel_and_need_the_las_spread_of_days():
    from services.ncs_referral.domain import could_not_contact, counted_attempts
    mon, tue, next_tue = date(2026, 9, 7), date(2026, 9, 8), date(2026, 9, 15)
    assert counted_attempts([(mon, "phone")] * 3) == [(mon, "phone")]
    assert len(counted_attempts([(mon, "phone"), (mon, "text"), (mon, "email")])) == 3
    assert not could_not_contact([(mon, "phone"), (mon, "text"), (mon, "email")], 3, 7)  # all in one day
    assert not could_not_contact([(mon, "phone"), (mon, "phone"), (next_tue, "phone")], 3, 7)  # two attempts
    assert could_not_contact([(mon, "phone"), (tue, "phone"), (next_tue, "text")], 3, 7)
    assert could_not_contact([(mon, "phone"), (mon, "text"), (mon, "email")], 3, 0)  # an LA that allows it
