"""Schools' real files through the API, against the running stack (real Kafka, real PostgreSQL): a CTF laid
out as SIMS, Arbor and Bromcom export it and a spreadsheet-style CSV reach the LA with what they hold."""
import json

import pytest

from schemas.events import LeaverRegistered
from tests.e2e.conftest import eventually
from tests.e2e.leavers import leaver
from tests.records import read_records
from tests.school_files import csv_file, ctf

SCHOOL = "8314001"


@pytest.fixture
def school(tokens):
    return tokens("school", laestab=SCHOOL)


async def _import(http, urls, school, name: str, data: bytes, **form) -> dict:
    r = await http.post(f"{urls['school_exit']}/v1/leavers/import", files={"file": (name, data)}, data=form,
                        headers=school)
    assert r.status_code == 207, r.text
    return r.json()


async def test_a_real_layout_ctf_reaches_the_la_with_plan_care_gender_ethnicity_and_its_own_leaving_date(
        http, urls, school, tokens, infra):
    plan = leaver(sen=[("2024-02-01", "E"), ("2020-09-01", "K")], gender="M", ethnicity="APKN")
    cared_for = leaver(in_care="1", consent={"share_with_ncs": False, "objects_to_sharing": False})
    out = await _import(http, urls, school, "CTF_831LLLL_MMM_001.xml", ctf([plan, cared_for]))
    assert [r["result"] for r in out["results"]] == ["accepted", "accepted"], out
    first = (await http.get(f"{urls['school_exit']}/v1/leavers/{out['results'][0]['leaver_id']}", headers=school)).json()
    assert (first["leaving_date"], first["gender"], first["ethnicity"]) == (plan["leaving_date"], "M", "APKN")
    assert first["send"] == {"ehcp": True, "sen_support": False}
    assert first["address_lines"][:2] == ["Flat 2", "14 Friar Gate"]

    la = tokens("la_staff", la="831")

    async def case_of(result):
        items = (await http.get(f"{urls['la_tracker']}/v1/cases", params={"person_key": result["person_key"]},
                                headers=la)).json()["items"]
        return items[0] if items else None
    assert (await eventually(lambda: case_of(out["results"][0])))["status"] == "send_caseload"
    assert (await eventually(lambda: case_of(out["results"][1])))["status"] == "leaving_care"
    [event] = await read_records(infra.kafka, LeaverRegistered.TOPIC, 1,
                                 match=lambda r: out["results"][0]["leaver_id"].encode() in r.value)
    body = json.loads(event.value)
    assert (body["gender"], body["ethnicity"]) == ("M", "APKN")


async def test_a_csv_with_lower_case_headers_and_a_bom_lists_every_problem_by_line_and_column(http, urls, school):
    good, bad = leaver(gender="F", ethnicity="CHNE", ehcp="Y"), leaver(gender="Q", consent_flag="perhaps")
    data = csv_file([good, bad]).replace(bad["upn"].encode(), bad["upn"][:-1].encode() + b"Z")
    out = await _import(http, urls, school, "leavers.csv", data)
    assert "line 1 is the header" in out["lines"]
    ok, rejected = out["results"]
    assert (ok["result"], ok["line"], ok["row"]) == ("accepted", 2, 1)
    assert (rejected["result"], rejected["line"], rejected["row"]) == ("rejected", 3, 2)
    assert {e["column"] for e in rejected["errors"]} == {"upn", "gender", "consentncs"}
    got = (await http.get(f"{urls['school_exit']}/v1/leavers/{ok['leaver_id']}", headers=school)).json()
    assert (got["gender"], got["ethnicity"], got["send"]["ehcp"]) == ("F", "CHNE", True)


async def test_the_csv_template_downloads_and_imports_as_an_empty_file(http, urls, school):
    r = await http.get(f"{urls['school_exit']}/v1/leavers/import/template.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.startswith("UPN,Forename,Surname,DOB,Postcode,LeavingDate,NCYear,")
    out = await _import(http, urls, school, "template.csv", r.content)
    assert out["results"] == []


async def test_a_ctf_exported_by_another_school_is_refused_naming_the_file(http, urls, school):
    r = await http.post(f"{urls['school_exit']}/v1/leavers/import",
                        files={"file": ("ctf.xml", ctf([leaver()], laestab="2024001"))}, headers=school)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "file"
    assert "2024001" in r.json()["detail"][0]["message"]
