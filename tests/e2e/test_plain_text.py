"""Control characters and non-ASCII identifiers on the running stack: a 422 naming the field, never a
500, in a single post, a batch, a CSV or CTF import (the other rows accepted), a staff note (which may
keep tab and newlines) and query parameters; and no part of a rejected record in any service's log or
the database server's."""
from __future__ import annotations

import uuid

from tests.e2e.conftest import eventually
from tests.e2e.leavers import leaver
from tests.infra import TEST_RUN
from tests.school_files import csv_file, ctf


def _fields(r) -> list[str]:
    return [e["field"] for e in r.json()["detail"]]


async def test_control_characters_and_other_scripts_digits_are_422_naming_the_field(http, urls, tokens):
    marker = f"Ctl{uuid.uuid4().hex[:10]}"
    school = tokens("school", laestab="8314001")
    r = await http.post(f"{urls['school_exit']}/v1/leavers", json=leaver(given_name=marker + "\x00"), headers=school)
    assert r.status_code == 422 and _fields(r) == ["given_name"]
    r = await http.post(f"{urls['school_exit']}/v1/leavers", json=leaver(uln="123456789\u0669",
                                                                        family_name=marker), headers=school)
    assert r.status_code == 422 and _fields(r) == ["uln"]

    good = leaver()
    batch = {"leavers": [good, leaver(family_name=marker, address_lines=[marker + "\x1b[2J Road"])]}
    r = await http.post(f"{urls['school_exit']}/v1/leavers/batch", json=batch, headers=school)
    assert r.status_code == 207 and (r.json()["accepted"], r.json()["rejected"]) == (1, 1)
    assert [e["field"] for e in r.json()["results"][1]["errors"]] == ["address_lines"]

    la = tokens("la_staff", la="831")
    r = await http.get(f"{urls['la_tracker']}/v1/cases", params={"q": marker + "\x00"}, headers=la)
    assert r.status_code == 422 and _fields(r) == ["q"]
    r = await http.get(f"{urls['ncs_referral']}/v1/referrals", params={"status": "new\x07"},
                       headers=tokens("ncs_adviser", ncs_area="East Midlands"))
    assert r.status_code == 422 and _fields(r) == ["status"]

    _never_logged(marker)


def _never_logged(marker: str) -> None:
    """No service's log and not the database server's holds any part of the rejected record."""
    logs = [p for p in (TEST_RUN / "stack" / "logs").glob("*.log")] + [TEST_RUN / "postgres" / "postgres.log"]
    for log in logs:
        assert marker not in log.read_text(errors="replace"), log.name


async def _import(http, urls, school, name: str, data: bytes) -> list[dict]:
    r = await http.post(f"{urls['school_exit']}/v1/leavers/import", files={"file": (name, data)}, headers=school)
    assert r.status_code == 207, r.text
    return r.json()["results"]


async def test_a_control_character_in_an_imported_file_refuses_that_row_by_column_or_element_only(http, urls, tokens):
    marker = f"Ctl{uuid.uuid4().hex[:10]}"
    school = tokens("school", laestab="8314001")
    results = await _import(http, urls, school, "leavers.csv",
                            csv_file([leaver(), leaver(given_name=marker + "\x00"), leaver()]))
    assert [(r["result"], r["line"]) for r in results] == [("accepted", 2), ("rejected", 3), ("accepted", 4)]
    assert [(e["column"], e["field"]) for e in results[1]["errors"]] == [("forename", "given_name")]

    pupils = [leaver(), leaver(family_name=marker + "CTL"), leaver()]
    results = await _import(http, urls, school, "CTF_831LLLL_MMM_001.xml", ctf(pupils).replace(b"CTL", b"&#27;"))
    assert [(r["result"], r["row"]) for r in results] == [("accepted", 1), ("rejected", 2), ("accepted", 3)]
    assert [(e["element"], e["field"]) for e in results[1]["errors"]] == [("Surname", "family_name")]
    assert marker not in str(results)
    _never_logged(marker)


async def test_query_parameters_with_nul_are_422_on_every_list_and_an_la_note_keeps_tabs_and_newlines(
        http, urls, tokens):
    marker = f"Ctl{uuid.uuid4().hex[:10]}"
    la = tokens("la_staff", la="831")
    for url, headers in ((f"{urls['la_tracker']}/v1/cases", la), (f"{urls['la_tracker']}/v1/reviews", la),
                         (f"{urls['ncs_referral']}/v1/referrals",
                          tokens("ncs_adviser", ncs_area="East Midlands"))):
        r = await http.get(url, params={"person_key": marker + "\x00"}, headers=headers)
        assert r.status_code == 422 and _fields(r) == ["person_key"], url

    school = tokens("school", laestab="8314001")
    posted = (await http.post(f"{urls['school_exit']}/v1/leavers", json=leaver(), headers=school)).json()

    async def case():
        items = (await http.get(f"{urls['la_tracker']}/v1/cases", params={"person_key": posted["person_key"]},
                                headers=la)).json()["items"]
        return items[0] if items else None
    notes = f"{urls['la_tracker']}/v1/cases/{(await eventually(case))['case_id']}/notes"
    r = await http.post(notes, json={"text": marker + "\x00 rang twice"}, headers=la)
    assert r.status_code == 422 and _fields(r) == ["text"]
    r = await http.post(notes, json={"text": "Rang twice:\n\tno answer\r\nthen a text"}, headers=la)
    assert r.status_code == 201, r.text
    _never_logged(marker)
