"""The leaver file readers on files laid out as schools' MIS export them (no I/O beyond parsing)."""
from datetime import date

import pytest

from services.school_exit import ctf, imports, intake, leaver_csv, queries
from tests.e2e.leavers import leaver
from tests.school_files import BOM, csv_file, ctf as ctf_file

TODAY = date.today()


def _checked(row: imports.Row):
    checked = intake.validate(row.leaver, TODAY, "8314001")
    return row.in_file_terms(checked if isinstance(checked, list) else []), checked


def test_ctf_reads_the_uploading_schools_own_history_entry_latest_sen_gender_ethnicity_and_address():
    p = leaver(sen=[("2024-01-10", "E"), ("2019-09-01", "K")], in_care="1", gender="M", ethnicity="ABAN")
    data = ctf_file([p])
    assert data.startswith(BOM)
    [row] = queries.read_file(data, "8314001", None)
    problems, checked = _checked(row)
    assert problems == []
    assert checked.leaving_date.isoformat() == p["leaving_date"]  # not the primary school's 2019-07-19
    assert checked.send.ehcp and not checked.send.sen_support  # the EHC plan is later, though listed first
    assert checked.characteristics == ["110"]
    assert (checked.gender, checked.ethnicity, checked.nc_year) == ("M", "ABAN", 13)
    assert checked.address_lines == ["Flat 2", "14 Friar Gate", "Friar Gate", "Derby", "Derbyshire"]
    assert checked.home_postcode == p["home_postcode"]


@pytest.mark.parametrize("in_care, looked_after", [("true", True), ("1", True), ("false", False), ("0", False)])
def test_ctf_in_care_true_or_1_is_looked_after(in_care, looked_after):
    [row] = ctf.parse(ctf_file([leaver(in_care=in_care)], bom=False), "8314001", None)
    assert (row.leaver["characteristics"] == ["110"]) is looked_after


def test_ctf_sen_support_later_than_an_ended_plan_is_sen_support():
    [row] = ctf.parse(ctf_file([leaver(sen=[("2018-09-01", "E"), ("2023-09-01", "K")])]), "8314001", None)
    assert row.leaver["send"] == {"ehcp": False, "sen_support": True}


def test_ctf_without_an_own_history_entry_names_the_element_or_takes_the_uploaded_date():
    data = ctf_file([leaver()], laestab="8314001")
    [row] = ctf.parse(data.replace(b"<Estab>4001</Estab><SchoolName>Example Academy</SchoolName>\n          <Entry",
                                   b"<Estab>4999</Estab><SchoolName>Other</SchoolName>\n          <Entry"),
                      "8314001", None)
    assert row.problems[0]["element"] == "SchoolHistory/School/LeavingDate"
    [row] = ctf.parse(data.replace(b"<Estab>4001</Estab><SchoolName>Example Academy</SchoolName>\n          <Entry",
                                   b"<Estab>4999</Estab><SchoolName>Other</SchoolName>\n          <Entry"),
                      "8314001", date(2026, 7, 17))
    assert row.problems == [] and row.leaver["leaving_date"] == "2026-07-17"


def test_ctf_from_another_school_is_refused_and_extended_ethnicity_is_left_out_with_a_note():
    with pytest.raises(imports.UnreadableFile, match="8314002"):
        ctf.parse(ctf_file([leaver()], laestab="8314002"), "8314001", None)
    [row] = ctf.parse(ctf_file([leaver(ethnicity="WENG")]), "8314001", None)
    assert row.leaver["ethnicity"] is None and "WENG" in row.notes[0]


def test_csv_with_lower_case_headers_bom_uk_dates_and_optional_columns():
    a = leaver(gender="F", ethnicity="WBRI", ehcp="Y", looked_after="Y")
    rows = leaver_csv.parse(csv_file([a, leaver()]), "8314001")
    assert [r.line for r in rows] == [2, 3]  # line 1 is the header
    problems, checked = _checked(rows[0])
    assert problems == []
    assert checked.date_of_birth.isoformat() == a["date_of_birth"] and checked.send.ehcp
    assert (checked.gender, checked.ethnicity, checked.characteristics) == ("F", "WBRI", ["110"])
    assert checked.address_lines == ["14 Friar Gate, Flat 2", "Derby"]


def test_csv_row_lists_every_problem_by_column_and_line():
    bad = leaver(upn="A801200001001", gender="X", consent_flag="maybe")
    data = csv_file([leaver(), bad]).replace(_uk(bad["date_of_birth"]).encode(), b"31/02/2008")
    row = leaver_csv.parse(data, "8314001")[1]
    problems, _ = _checked(row)
    assert row.line == 3
    assert {p["column"] for p in problems} == {"consentncs", "dob", "upn", "gender"}
    assert all(p["message"].startswith(p["column"]) for p in problems)  # the file's names, not the API's
    assert not any("date_of_birth" in p["message"] or "share_with_ncs" in p["message"] for p in problems)


def test_csv_missing_a_required_column_names_it_and_the_template_has_every_column():
    with pytest.raises(imports.UnreadableFile, match="LeavingDate"):
        leaver_csv.parse(b"UPN,Forename,Surname,DOB,Postcode,NCYear\r\n", "8314001")
    header = leaver_csv.template().strip().split(",")
    assert set(leaver_csv.REQUIRED) <= set(header) and "Ethnicity" in header and "EHCPlan" in header
    assert leaver_csv.parse(leaver_csv.template().encode(), "8314001") == []


def _uk(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


@pytest.mark.parametrize("attack", [
    BOM + b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
          b'<CTfile><Header/><CTFpupilData><Pupil><Surname>&b;</Surname></Pupil></CTFpupilData></CTfile>',
    b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://example.invalid/ctf.dtd"><CTfile><Header/></CTfile>',
    b'<CTfile><Header/><CTFpupilData><Pupil><Surname>&xxe;</Surname></Pupil></CTFpupilData></CTfile>',
    '<?xml version="1.0" encoding="UTF-16"?><CTfile><Header/></CTfile>'.encode("utf-16"),
])
def test_ctf_with_a_dtd_entities_or_not_utf8_is_refused_before_anything_is_expanded(attack):
    with pytest.raises(imports.UnreadableFile):
        queries.read_file(attack, "8314001", None)


@pytest.mark.parametrize("text, expected", [
    ("2026-07-17", date(2026, 7, 17)), ("17/07/2026", date(2026, 7, 17)), ("1/7/2026", date(2026, 7, 1)), ("", None),
    ("31/02/2008", ValueError), ("2026-7-17", ValueError), ("17-07-2026", ValueError), ("17/07/26", ValueError),
    ("\u0661\u0667/07/2026", ValueError),  # Arabic-Indic digits: int() would take them
])
def test_dates_are_iso_or_uk_in_ascii_digits(text, expected):
    if expected is ValueError:
        with pytest.raises(ValueError):
            imports.parse_date(text)
    else:
        assert imports.parse_date(text) == expected


def test_csv_nul_in_a_given_name_names_the_column_and_line_and_the_other_rows_stand():
    data = csv_file([leaver(), leaver(given_name="Am\x00ira"), leaver()])
    rows = leaver_csv.parse(data, "8314001")
    checked = [_checked(r) for r in rows]
    assert [problems for problems, _ in checked[::2]] == [[], []]
    [problem] = checked[1][0]
    assert (rows[1].line, problem["column"], problem["field"]) == (3, "forename", "given_name")
    assert "\x00" not in problem["message"] and "Am" not in problem["message"]


@pytest.mark.parametrize("written", [b"\x00", b"\x01", b"&#1;", b"&#x1b;", b"&#0011;", b"\x0b"])
def test_ctf_control_character_in_a_pupils_name_names_the_element_and_the_other_pupils_stand(written):
    """Written in the file or as a character reference: XML 1.0 allows neither, yet one pupil's bad name
    must not refuse the whole file."""
    data = ctf_file([leaver(), leaver(given_name="AmCTLira"), leaver()]).replace(b"CTL", written)
    rows = queries.read_file(data, "8314001", None)
    checked = [_checked(r) for r in rows]
    assert [problems for problems, _ in checked[::2]] == [[], []]
    [problem] = checked[1][0]
    assert (rows[1].number, problem["element"], problem["field"]) == (2, "Forename", "given_name")
    assert "Am" not in problem["message"]


def test_ctf_keeps_legal_character_references_and_tabs_as_they_are():
    data = ctf_file([leaver(given_name="Aa", family_name="O'Neil")]).replace(b">Aa<", b">&#65;my<")
    [row] = queries.read_file(data.replace(b"O&apos;Neil", b"O&#x27;Neil").replace(b"O'Neil", b"O&#x27;Neil"),
                              "8314001", None)
    assert (row.leaver["given_name"], row.leaver["family_name"]) == ("Amy", "O'Neil")
