"""The NCCIS return from a realistic cohort, through the running services, passes the MIR's rules.

Cambridgeshire (873) gets a cohort with a NEET leaver, young carer / teenage parent / pregnancy
recorded by staff with their characteristics, a start date agreed, a gap year, an intended
destination, a confirmed destination, an activity that lapses, a young person with an EHC plan, a
move to Peterborough (874) and a merged duplicate. The project's own implementation of the MIR
rules (services/la_tracker/nccis_rules.py) then finds no priority-1 and no file error in this
month's return nor in a later month's (after the lapse), and the files validate against the XSD.
No other test uses 873 or 874. The stack runs with ONWARD_NCCIS_DATABASE_IDS=873:456 (conftest).
"""
from datetime import date, timedelta

import httpx
import pytest
from lxml import etree

from onward.db import connect
from services.la_tracker import nccis_return, scheduler
from tests.e2e.conftest import eventually
from tests.e2e.leavers import leaver

SCHOOL, LA, OTHER_LA, DATABASE_ID = "8734001", "873", "874", "456"


def month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


THIS_END = month_end(date.today())
LATER_END = month_end(date.today() + timedelta(days=200))   # after a 6-month currency has lapsed


def _dob(age_at_later_end: int, serial: int) -> str:
    """Academic age `age_at_later_end` at LATER_END (so 16-17, or 18+ with a plan, now and then)."""
    start_year = LATER_END.year if LATER_END.month >= 9 else LATER_END.year - 1
    return (date(start_year - age_at_later_end, 8, 1) - timedelta(days=serial * 3)).isoformat()


class Cohort:
    def __init__(self, http, urls, tokens):
        self.http, self.urls, self.tokens = http, urls, tokens
        self.staff = tokens("la_staff", la=LA, sub="nccis-officer")
        self.people: dict[str, dict] = {}

    async def submit(self, name: str, serial: int, *, age: int = 17, **over) -> dict:
        body = leaver(SCHOOL, **{"nc_year": 12, "home_postcode": "CB2 1TN", "date_of_birth": _dob(age, serial)} | over)
        r = await self.http.post(f"{self.urls['school_exit']}/v1/leavers", json=body,
                                 headers=self.tokens("school", laestab=SCHOOL))
        assert r.status_code == 202, r.text
        self.people[name] = body | r.json()
        return self.people[name]

    async def case(self, name: str, **want) -> dict:
        admin = self.tokens("admin")

        async def probe():
            items = (await self.http.get(f"{self.urls['la_tracker']}/v1/cases", headers=admin, params={
                "person_key": self.people[name]["person_key"]})).json()["items"]
            return next((i for i in items if want.items() <= i.items()), None)
        return await eventually(probe)

    async def activity(self, name: str, body: dict) -> None:
        case = await self.case(name, responsible_la=LA)
        r = await self.http.put(f"{self.urls['la_tracker']}/v1/cases/{case['case_id']}/activity", json=body,
                                headers=self.staff)
        assert r.status_code == 200, r.text

    async def merge(self, near: str) -> None:
        async def review():
            items = (await self.http.get(f"{self.urls['la_tracker']}/v1/reviews", headers=self.staff)).json()["items"]
            keys = {self.people[near]["person_key"]}
            return [i for i in items if {i["person"]["person_key"], i["candidate"]["person_key"]} & keys]
        [item] = await eventually(review)
        r = await self.http.post(f"{self.urls['la_tracker']}/v1/reviews/{item['review_id']}",
                                 json={"decision": "merge"}, headers=self.staff)
        assert r.status_code == 200, r.text


async def _build(cohort: Cohort) -> None:
    soon = (date.today() + timedelta(days=60)).isoformat()
    c = cohort
    await c.submit("neet", 1, destination={"activity_code": "619", "status": "confirmed"})
    for name, serial in (("carer", 2), ("parent", 3), ("pregnant", 4), ("start_agreed", 5), ("gap", 6)):
        await c.submit(name, serial)
    await c.submit("intended", 7, destination={"activity_code": "230", "status": "intended"})
    await c.submit("college", 8, destination={"activity_code": "230", "status": "confirmed"})
    await c.submit("lapses", 9, destination={"activity_code": "330", "status": "confirmed"})
    await c.submit("ehcp", 10, age=19, send={"ehcp": True, "sen_support": False})
    moves = await c.submit("moves", 11)
    first = await c.submit("first", 12, uln=None)
    await c.case("first")   # the first report lands before its duplicate (review names the later one)
    await c.submit("duplicate", 13, uln=None, given_name=first["given_name"], family_name=first["family_name"],
                   date_of_birth=first["date_of_birth"], home_postcode="CB1 1PT")
    await c.activity("carer", {"activity_code": "620", "characteristic": "140"})
    await c.activity("parent", {"activity_code": "630", "characteristic": "120"})
    await c.activity("pregnant", {"activity_code": "650", "characteristic": "180"})
    await c.activity("start_agreed", {"activity_code": "616", "start_date": soon, "review_date": soon})
    await c.activity("gap", {"activity_code": "260", "review_date": soon, "predicted_end_date": soon})
    await c.activity("ehcp", {"activity_code": "280", "predicted_end_date": soon})
    body = {k: v for k, v in moves.items() if k not in ("leaver_id", "person_key", "status", "onward_status")}
    r = await c.http.post(f"{c.urls['school_exit']}/v1/leavers", json=body | {"home_postcode": "PE1 1AA"},
                          headers=c.tokens("school", laestab=SCHOOL))
    assert r.status_code == 202
    await c.case("moves", responsible_la=OTHER_LA)
    await c.merge("duplicate")
    await c.case("duplicate", status="closed")


async def _return(cohort: Cohort, period_end: date, la: str = LA) -> tuple[dict, dict]:
    """The check's result and each young person's record (by YPID) from the XML, validated by the XSD."""
    headers = cohort.tokens("la_staff", la=la)
    url = f"{cohort.urls['la_tracker']}/v1/exports/nccis"
    r = await cohort.http.get(f"{url}.xml", params={"period_end": period_end.isoformat()}, headers=headers)
    assert r.status_code == 200 and r.content.splitlines()[1] == b"<!DOCTYPE NCCIS2019>"
    doc = etree.fromstring(r.content)
    etree.XMLSchema(etree.parse(str(nccis_return.XSD))).assertValid(doc)
    check = (await cohort.http.get(f"{url}/check", params={"period_end": period_end.isoformat()},
                                   headers=headers)).json()
    records = {yp.findtext("PersonalDetails/YoungPersonsID"): {e.tag: e.text or "" for e in yp.iter()}
               | {"chars": [c.text for c in yp.iter("CharacteristicCode")]} for yp in doc.iter("YoungPersonsRecord")}
    return check, records


def _by_upn(records: dict, person: dict) -> dict:
    [found] = [r for r in records.values() if r["UniquePupilNumber"] == person["upn"]]
    return found


@pytest.fixture(scope="module")
async def cohort(urls, tokens):
    async with httpx.AsyncClient(timeout=30) as http:
        c = Cohort(http, urls, tokens)
        await _build(c)
        await eventually(lambda: _settled(c))
        yield c


async def _settled(c: Cohort):
    check, records = await _return(c, THIS_END)
    return len(records) >= 13 or None


async def test_this_months_return_passes_the_mir_rules(cohort):
    check, records = await _return(cohort, THIS_END)
    assert check["database_id"] == DATABASE_ID and (check["counts"]["file"], check["counts"]["1"]) == (0, 0), \
        [b for b in check["breaches"] if b["priority"] in (1, "file")]
    assert {ypid[:3] for ypid in records} == {DATABASE_ID}
    p = cohort.people
    moved = _by_upn(records, p["moves"])
    assert (moved["CohortStatus"], moved["TransferredToLACode"]) == ("T", OTHER_LA)
    merged, survivor = _by_upn(records, p["duplicate"]), _by_upn(records, p["first"])
    assert merged["CohortStatus"] == "M" and survivor["PreviousYPIDIdentifier"] == merged["YoungPersonsID"]
    assert _by_upn(records, p["intended"])["ActivityCode"] == "810"          # not known until confirmed
    carer = _by_upn(records, p["carer"])
    assert (carer["ActivityCode"], "140" in carer["chars"], bool(carer["NEETStartDate"])) == ("620", True, True)
    assert _by_upn(records, p["start_agreed"])["ReviewDate"] == (date.today() + timedelta(days=60)).isoformat()
    college = _by_upn(records, p["college"])
    assert (college["ActivityCode"], bool(college["PredictedEndDate"])) == ("230", True)
    ehcp = _by_upn(records, p["ehcp"])
    assert (ehcp["ActivityCode"], ehcp["SENDFlag"]) == ("280", "Y")
    assert all(r["LevelOfNeedCode"] == "1" and r["StartDate"] for r in records.values())


async def test_a_later_month_flags_the_lapse_keeps_the_activity_and_still_passes(cohort, databases):
    conn = await connect(databases["la_tracker"])
    try:
        async with conn.transaction():
            while await scheduler.run_due(conn, LATER_END) == 100:
                pass
    finally:
        await conn.close()
    await cohort.case("lapses", activity_code="330")       # the lapse opened a case; the activity is kept
    check, records = await _return(cohort, LATER_END)
    assert (check["counts"]["file"], check["counts"]["1"]) == (0, 0), check["breaches"][:5]
    lapsed = _by_upn(records, cohort.people["lapses"])
    assert (lapsed["ActivityCode"], lapsed["CurrencyLapsed"]) == ("330", "Y")
    assert cohort.people["moves"]["upn"] not in {r["UniquePupilNumber"] for r in records.values()}
    check, records = await _return(cohort, LATER_END, la=OTHER_LA)
    assert _by_upn(records, cohort.people["moves"])["CohortStatus"] == "P"
    assert (check["counts"]["file"], check["counts"]["1"]) == (0, 0)


async def test_last_months_return_is_as_it_was(cohort):
    check, records = await _return(cohort, date.today().replace(day=1) - timedelta(days=1))
    upns = {p["upn"] for p in cohort.people.values()}
    assert not upns & {r["UniquePupilNumber"] for r in records.values()}


async def test_check_lists_breaches_by_rule_with_the_case_to_fix(cohort, http, urls):
    # The school reported a gap year (260) with no review date: priority 1 (262), linked to the case.
    lv = await cohort.submit("gap_from_school", 20, destination={"activity_code": "260", "status": "confirmed"})

    async def breach():
        check = (await http.get(f"{urls['la_tracker']}/v1/exports/nccis/check", headers=cohort.staff,
                                params={"period_end": THIS_END.isoformat()})).json()
        return [b for b in check["breaches"] if b["rule"] == 262] or None
    [b] = await eventually(breach)
    assert b["priority"] == 1 and b["name"] == f"{lv['given_name']} {lv['family_name']}"


async def test_staff_are_asked_for_what_the_return_needs_when_they_record_an_activity(cohort, http, urls):
    case = await cohort.case("neet")
    url = f"{urls['la_tracker']}/v1/cases/{case['case_id']}"
    for body, field in (({"activity_code": "616", "start_date": "2027-01-06"}, "review_date"),
                        ({"activity_code": "230"}, "predicted_end_date"),
                        ({"activity_code": "615"}, "start_date"),
                        ({"activity_code": "460", "predicted_end_date": "2027-07-01"}, "activity_code"),
                        ({"activity_code": "650"}, "characteristic")):
        r = await http.put(f"{url}/activity", json=body, headers=cohort.staff)
        assert (r.status_code, r.json()["detail"][0]["field"]) == (422, field), r.text
    r = await http.put(f"{url}/level-of-need", json={"level_of_need": 3}, headers=cohort.staff)
    assert r.status_code == 200
    check, records = await _return(cohort, THIS_END)
    assert _by_upn(records, cohort.people["neet"])["LevelOfNeedCode"] == "3"


async def test_la_sets_its_level_of_need_default_and_currency_table(cohort, http, urls):
    headers = cohort.tokens("la_staff", la=OTHER_LA)
    url = f"{urls['la_tracker']}/v1/nccis/settings"
    r = await http.put(url, json={"level_of_need_default": 2, "confirmation_due": "10-15",
                                  "currency": {"330": "months:3"}}, headers=headers)
    assert r.status_code == 200, r.text
    got = (await http.get(url, headers=headers)).json()
    assert (got["confirmation_due"], got["currency"]["330"], got["currency"]["310"]) == ("10-15", "months:3", "months:12")
    check, records = await _return(cohort, THIS_END, la=OTHER_LA)
    assert _by_upn(records, cohort.people["moves"])["LevelOfNeedCode"] == "2"
    r = await http.put(url, json={"currency": {"330": "weeks:3"}}, headers=headers)
    assert r.status_code == 422
