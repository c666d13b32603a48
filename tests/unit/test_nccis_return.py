"""The NCCIS return: state as at the period end from the history, cohort statuses, currency, the file
layout (DOCTYPE, DatabaseID, YPIDs), the XSD, formula-safe CSV, and the MIR rules that check it."""
from datetime import date

import pytest
from lxml import etree

from services.la_tracker import activity_history, currency, nccis_export, nccis_ids, nccis_return, nccis_rules
from services.la_tracker.activity_history import Placement

PERIOD_END = date(2026, 11, 30)
LAS = frozenset({"831", "830", "202", "892"})


def act(as_of, code="619", status="confirmed", ascertained=None, start=None, review=None, predicted_end=None):
    return {"as_of": as_of, "activity_code": code, "activity_status": status, "ascertained": ascertained or as_of,
            "start_date": start, "review_date": review, "predicted_end": predicted_end}


def person(ypid=1_000_000_000_042, **over) -> dict:
    row = {
        "person_key": f"pk{ypid}", "ypid": ypid, "level_of_need": None, "merged_into": None, "merged_on": None,
        "details": {"given_name": ("Siobhán", "Amira", "Tomasz", "Kwame", "Li")[ypid % 5], "family_name": "O'Neill & Sons <Ltd>", "date_of_birth": "2009-10-02",
                    "home_postcode": "DE1 2AA", "address_lines": ["1 Example Street"], "school_laestab": "8314001",
                    "upn": "H801200001001", "uln": f"1{ypid % 10**9:09d}", "gender": "F", "ethnicity": "WBRI"},
        "facts": {"ehcp": False, "sen_support": True, "characteristics": ["160", "140"], "nc_year": 12},
    }
    for k, v in over.items():
        (row["details"] if k in row["details"] else row["facts"] if k in row["facts"] else row)[k] = v
    return row


def build(people_histories, la="831", period_end=PERIOD_END, las_rows=None, merged=None, rules=None):
    people = [p for p, _ in people_histories]
    activities = {p["person_key"]: h for p, h in people_histories}
    las = las_rows or {p["person_key"]: [{"la": la, "from_date": date(2026, 7, 20)}] for p in people}
    return nccis_export.assemble(people, activities, las, merged or {}, rules=rules or {}, level_of_need=1, la=la,
                                 database="123", period_end=period_end)


def xml(records, period_end=PERIOD_END) -> bytes:
    return nccis_return.to_xml(records, database="123", la="831", period_end=period_end, sent=date(2026, 12, 2))


# -- currency and activity as at the period end ------------------------------------------------------------


@pytest.mark.parametrize("code, verified, start, expected", [
    ("230", date(2026, 7, 20), None, date(2027, 8, 31)),      # summer: the course year starting that September
    ("230", date(2026, 11, 3), date(2026, 9, 7), date(2027, 8, 31)),
    ("310", date(2026, 9, 1), None, date(2027, 9, 1)),       # 12 months
    ("330", date(2026, 8, 31), None, date(2027, 2, 28)),     # 6 months, end of a shorter month
    ("530", date(2026, 9, 1), None, date(2026, 12, 1)),      # 3 months
    ("619", date(2026, 9, 1), None, None),                   # NEET: no lapse date of its own
])
def test_suppliers_default_currency(code, verified, start, expected):
    assert currency.lapse_of(code, verified=verified, start=start) == expected


def test_gap_year_lapses_28_days_after_its_review_and_an_la_rule_overrides_the_default():
    assert currency.lapse_of("260", verified=date(2026, 9, 1), review=date(2027, 1, 10)) == date(2027, 2, 7)
    assert currency.lapse_of("330", verified=date(2026, 9, 1), rules={"330": "months:2"}) == date(2026, 11, 1)
    with pytest.raises(ValueError):
        currency.validate_rule("months:0")


def test_lapsed_activity_is_kept_and_flagged_not_replaced_with_810():
    history = [act(date(2026, 3, 2), "330"), act(date(2026, 9, 3), "330", "lapsed", ascertained=date(2026, 3, 2))]
    a = activity_history.activity_as_at(history, {}, PERIOD_END)
    assert (a.code, a.lapse, a.lapsed, a.verified) == ("330", date(2026, 9, 2), True, date(2026, 3, 2))


def test_currency_lapsed_is_y_exactly_when_due_to_lapse_is_before_the_period_end():
    history = [act(date(2026, 5, 31), "330")]                # lapses 30 November 2026, the period end itself
    assert activity_history.activity_as_at(history, {}, PERIOD_END).lapsed is False
    assert activity_history.activity_as_at(history, {}, date(2026, 12, 31)).lapsed is True


def test_intended_destination_is_not_known_until_confirmed():
    history = [act(date(2026, 7, 20), "230", "intended")]
    assert activity_history.activity_as_at(history, {}, PERIOD_END).code == "810"
    history.append(act(date(2026, 11, 3), "230", start=date(2026, 9, 7)))
    a = activity_history.activity_as_at(history, {}, PERIOD_END)
    assert (a.code, a.start, a.predicted_end, a.neet_start) == ("230", date(2026, 9, 7), date(2027, 8, 31), None)


def test_neet_start_is_the_start_of_the_unbroken_neet_spell():
    history = [act(date(2026, 7, 20), "230"), act(date(2026, 9, 10), "619"), act(date(2026, 10, 5), "610")]
    a = activity_history.activity_as_at(history, {}, PERIOD_END)
    assert (a.code, a.start, a.ascertained, a.neet_start) == ("610", date(2026, 10, 5), date(2026, 10, 5),
                                                             date(2026, 9, 10))


def test_agreed_future_start_is_the_review_date_not_the_start():
    history = [act(date(2026, 10, 5), "616", start=date(2027, 1, 6))]
    a = activity_history.activity_as_at(history, {}, PERIOD_END)
    assert (a.start, a.review) == (date(2026, 10, 5), date(2027, 1, 6))


def test_a_past_period_is_the_same_whenever_it_is_produced():
    history = [act(date(2026, 9, 10), "619")]
    before = build([(person(), list(history))], period_end=date(2026, 10, 31))
    history.append(act(date(2026, 11, 12), "310"))      # recorded after that period end
    after = build([(person(), history)], period_end=date(2026, 10, 31))
    assert before == after and after[0].fields["ActivityCode"] == "619"
    assert build([(person(), history)])[0].fields["ActivityCode"] == "310"


# -- cohort statuses --------------------------------------------------------------------------------------


def test_transfer_out_appears_once_with_t_and_the_new_la():
    rows = [{"la": "831", "from_date": date(2026, 7, 20)}, {"la": "202", "from_date": date(2026, 11, 12)}]
    p = person()
    assert activity_history.placement(p, rows, "831", date(2026, 11, 1), PERIOD_END) == Placement("T", "202")
    assert activity_history.placement(p, rows, "831", date(2026, 12, 1), date(2026, 12, 31)) is None
    assert activity_history.placement(p, rows, "202", date(2026, 11, 1), PERIOD_END) == Placement("P")
    assert activity_history.placement(p, rows, "831", date(2026, 10, 1), date(2026, 10, 31)) == Placement("P")


def test_merged_record_appears_once_with_m_and_the_survivor_names_it():
    gone = person(1_000_000_000_007, merged_into="pk1000000000042", merged_on=date(2026, 11, 20))
    survivor = person()
    records = build([(survivor, [act(date(2026, 9, 1))]), (gone, [act(date(2026, 9, 2))])],
                    merged={"pk1000000000042": 1_000_000_000_007})
    by_status = {r.fields["CohortStatus"]: r.fields for r in records}
    assert by_status["M"]["YoungPersonsID"] == "1230000000007"
    assert by_status["P"]["PreviousYPIDIdentifier"] == "1230000000007"
    later = build([(gone, [act(date(2026, 9, 2))])], period_end=date(2026, 12, 31))
    assert later == []


def test_leaving_the_cohort_by_age_is_reported_once_with_a():
    p = person(date_of_birth="2008-03-14")              # 18 from 1 September 2026, no EHC plan
    rows = [{"la": "831", "from_date": date(2026, 1, 5)}]
    assert activity_history.placement(p, rows, "831", date(2026, 9, 1), date(2026, 9, 30)) == Placement("A")
    assert activity_history.placement(p, rows, "831", date(2026, 10, 1), date(2026, 10, 31)) is None
    p["facts"]["ehcp"] = True
    assert activity_history.placement(p, rows, "831", date(2026, 10, 1), date(2026, 10, 31)) == Placement("P")


# -- the file --------------------------------------------------------------------------------------------


def _sample() -> list:
    return build([
        (person(), [act(date(2026, 9, 1), "619")]),
        (person(1_000_000_000_043, uln="", address_lines=[]), [act(date(2026, 7, 20), "230", "intended")]),
        (person(1_000_000_000_044), [act(date(2026, 9, 3), "310", start=date(2026, 9, 1))]),
        (person(1_000_000_000_045, gender="", ethnicity="", characteristics=["160"]), [act(date(2026, 9, 3), "620")]),
    ])


def test_return_has_the_doctype_a_numeric_database_id_and_ypids_built_on_it():
    body = xml(_sample())
    assert body.splitlines()[1] == b"<!DOCTYPE NCCIS2019>"
    doc = etree.fromstring(body)
    assert doc.findtext("FileHeader/Databases/DatabaseID") == "123"
    assert {e.text[:3] for e in doc.iter("YoungPersonsID")} == {"123"}
    assert {e.text for e in doc.iter("CohortStatus")} == {"P"}
    assert doc.find("YoungPersonsRecord/SeptemberGuarantee/Year11/GuaranteeStatus") is not None


def test_return_validates_against_the_projects_xsd():
    doc = etree.fromstring(xml(_sample()))
    etree.XMLSchema(etree.parse(str(nccis_return.XSD))).assertValid(doc)
    assert doc.findtext("YoungPersonsRecord/PersonalDetails/FamilyName") == "O'Neill & Sons <Ltd>"
    assert [c.text for c in doc.findall("YoungPersonsRecord/LevelOfNeed/Characteristics/CharacteristicCode")][:2] == [
        "140", "160"]


def test_xsd_rejects_an_unrecognised_cohort_status():
    records = _sample()
    records[0].fields["CohortStatus"] = "C"
    assert not etree.XMLSchema(etree.parse(str(nccis_return.XSD))).validate(etree.fromstring(xml(records)))


def test_csv_cells_are_formula_safe():
    records = build([(person(given_name="=HYPERLINK(\"http://x\")", family_name="+cmd|' /C calc'!A0"),
                      [act(date(2026, 9, 1))])])
    out = nccis_return.to_csv(records)
    assert "'=HYPERLINK" in out and "'+cmd|" in out and ",=HYPERLINK" not in out


# -- the MIR rules ---------------------------------------------------------------------------------------


def test_rules_find_no_priority_one_or_file_error_in_a_good_return():
    found = nccis_rules.check(xml(_sample()), LAS)
    counts = nccis_rules.counts(found)
    assert (counts["file"], counts["1"]) == (0, 1), found           # the second person has no address (31)
    assert {(b.rule, b.ypid) for b in found if b.priority == 1} == {(31, "1230000000043")}
    assert {b.rule for b in found if b.ypid == "1230000000045"} == {4, 6, 233}  # no gender/ethnicity; 620 without 140


def test_unrecognised_cohort_status_fails_the_whole_file_and_a_foreign_ypid_is_903():
    records = _sample()
    records[0].fields["CohortStatus"] = "C"
    records[1].fields["YoungPersonsID"] = "8310000000043"
    found = nccis_rules.check(xml(records), LAS)
    assert (904, 0) in {(b.rule, b.priority) for b in found}
    assert (903, "8310000000043") in {(b.rule, b.ypid) for b in found}


def test_rules_catch_missing_review_and_predicted_end_dates_and_duplicates():
    records = build([(person(), [act(date(2026, 9, 1), "616")]),
                     (person(1_000_000_000_047), [act(date(2026, 9, 1), "350")])])
    records[1].fields["UniqueLearnerNo"] = records[0].fields["UniqueLearnerNo"]
    records[0].fields["ActivityCode"], records[0].fields["PredictedEndDate"] = "230", ""
    records[1].fields["GivenName"] = records[0].fields["GivenName"]
    found = {(b.rule, b.ypid[-2:]) for b in nccis_rules.check(xml(records), LAS)}
    assert {(259, "42"), (262, "47"), (907, "42"), (907, "47"), (908, "42"), (908, "47")} <= found


def test_database_ids_setting():
    assert nccis_ids.parse("831:123, 873:456") == {"831": "123", "873": "456"}
    with pytest.raises(ValueError):
        nccis_ids.parse("831:12")
    with pytest.raises(nccis_ids.MissingDatabaseIds):
        nccis_ids.configured("production", "")
    assert nccis_ids.database_id({}, "831", "development") == "831"
    with pytest.raises(nccis_ids.MissingDatabaseIds):
        nccis_ids.database_id({"873": "456"}, "831", "production")
    assert nccis_ids.ypid("123", 1_000_000_000_042) == "1230000000042"


def test_characters_xml_cannot_carry_are_dropped_not_written():
    records = build([(person(family_name="Nguyen\x0b\x00"), [act(date(2026, 9, 1))])])
    assert etree.fromstring(xml(records)).findtext(".//FamilyName") == "Nguyen"


@pytest.mark.parametrize("code, values, field", [
    ("616", {"start": date(2027, 1, 6)}, "review_date"),
    ("230", {}, "predicted_end_date"),
    ("230", {"start": date(2026, 9, 7), "predicted_end": date(2026, 9, 1)}, "predicted_end_date"),
    ("615", {}, "start_date"),
    ("460", {"predicted_end": date(2027, 7, 1)}, "activity_code"),
    ("650", {}, "characteristic"),
])
def test_staff_are_asked_for_what_the_rules_need(code, values, field):
    from services.la_tracker import activity_rules
    args = {"start": None, "review": None, "predicted_end": None, "characteristic": None,
            "facts": {"ehcp": False, "characteristics": []}} | values
    with pytest.raises(activity_rules.Invalid) as exc:
        activity_rules.check(code, **args)
    assert exc.value.field == field
    activity_rules.check("650", **(args | {"facts": {"ehcp": False, "characteristics": ["180"]}, "predicted_end": None,
                                            "start": None}))  # already recorded: nothing asked
