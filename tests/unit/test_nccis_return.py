"""The NCCIS return's rules: cohort, currency lapse, NEET start date; and its XML against the XSD."""
from datetime import date, datetime, timezone

import pytest
from lxml import etree

from services.la_tracker import domain, nccis_return

PERIOD_END = date(2026, 11, 30)


def person(**over) -> dict:
    row = {
        "ypid": 1000000000042, "responsible_la": "831", "activity_code": "619", "activity_status": "confirmed",
        "activity_ascertained": date(2026, 9, 1), "activity_start": date(2026, 9, 1), "activity_review": None,
        "updated_at": datetime(2026, 9, 1, tzinfo=timezone.utc),
        "details": {"given_name": "Siobhán", "family_name": "O'Neill & Sons <Ltd>", "date_of_birth": "2009-10-02",
                    "home_postcode": "DE1 2AA", "address_lines": ["1 Example Street"], "school_laestab": "8314001",
                    "upn": "H801200001001", "uln": "1234567899"},
        "facts": {"ehcp": False, "sen_support": True, "characteristics": ["160", "140"]},
    }
    for k, v in over.items():
        (row["details"] if k in row["details"] else row)[k] = v
    return row


# 619 lapses 90 days after it was ascertained: 1 Sep + 90 days = 30 Nov, the period end itself: not lapsed.
@pytest.mark.parametrize("ascertained, lapsed", [(date(2026, 9, 1), "N"), (date(2026, 8, 31), "Y"),
                                                 (date(2026, 11, 1), "N")])
def test_currency_lapsed_is_y_exactly_when_due_to_lapse_is_before_the_period_end(ascertained, lapsed):
    # 619 is NEET (active): currency 90 days by default
    r = nccis_return.record(person(activity_ascertained=ascertained), PERIOD_END)
    assert r.fields["DueToLapseDate"] == domain.due_to_lapse(ascertained, "619", {"default": 365, "neet_active": 90}).isoformat()
    assert r.fields["CurrencyLapsed"] == lapsed


def test_neet_start_date_only_for_neet_codes():
    assert nccis_return.record(person(), PERIOD_END).fields["NEETStartDate"] == "2026-09-01"
    assert nccis_return.record(person(activity_code="310"), PERIOD_END).fields["NEETStartDate"] == ""


@pytest.mark.parametrize("dob, ehcp, included", [
    ("2009-10-02", False, True),    # academic age 17
    ("2010-08-31", False, True),    # 16
    ("2008-03-14", False, False),   # 18, no EHC plan: outside the statutory cohort
    ("2008-03-14", True, True),     # 18 with an EHC plan
    ("2001-09-01", True, True),     # 24 on 31 August (25 the next day)
    ("2001-08-31", True, False),    # 25
])
def test_statutory_cohort(dob, ehcp, included):
    p = person(date_of_birth=dob)
    p["facts"]["ehcp"] = ehcp
    assert nccis_return.in_return(p, PERIOD_END) is included


def test_return_validates_against_the_projects_xsd():
    people = [person(), person(activity_code=None, ypid=1000000000043, uln=None, address_lines=[]),
              person(activity_code="310", activity_review=date(2027, 3, 1), ypid=1000000000044)]
    xml = nccis_return.to_xml([nccis_return.record(p, PERIOD_END) for p in people], "831", PERIOD_END, date(2026, 12, 2))
    schema = etree.XMLSchema(etree.parse(str(nccis_return.XSD)))
    doc = etree.fromstring(xml)
    schema.assertValid(doc)
    assert doc.findtext("YoungPersonsRecord/PersonalDetails/FamilyName") == "O'Neill & Sons <Ltd>"
    assert doc.findall("YoungPersonsRecord")[1].findtext("Activities/Cohort/ActivityCode") == "810"
    assert [c.text for c in doc.findall("YoungPersonsRecord/LevelOfNeed/Characteristics/CharacteristicCode")][:2] == ["140", "160"]


def test_xsd_rejects_a_record_that_breaks_the_field_rules():
    bad = nccis_return.record(person(), PERIOD_END)
    bad.fields["CurrencyLapsed"] = "maybe"
    xml = nccis_return.to_xml([bad], "831", PERIOD_END, date(2026, 12, 2))
    assert not etree.XMLSchema(etree.parse(str(nccis_return.XSD))).validate(etree.fromstring(xml))
