"""Identity across schools and LAs on the running stack (docs/domain-rules.md 5.8): a second school posting a UPN
another school reported, with other details, cannot move, close or unshare the first school's leaver."""
from __future__ import annotations

from tests.e2e.conftest import eventually
from tests.e2e.leavers import leaver
from tests.e2e.test_la_tracker import _db


async def _post(http, urls, tokens, body: dict) -> dict:
    r = await http.post(f"{urls['school_exit']}/v1/leavers", json=body,
                        headers=tokens("school", laestab=body["school_laestab"]))
    assert r.status_code == 202, r.text
    return r.json()


async def test_second_school_with_the_same_upn_and_other_details_changes_nothing(http, urls, tokens, databases):
    la_tracker, admin = urls["la_tracker"], tokens("admin")
    first_body = leaver()
    first = await _post(http, urls, tokens, first_body)

    async def referred():
        items = (await http.get(f"{la_tracker}/v1/cases", params={"person_key": first["person_key"]},
                                headers=admin)).json()["items"]
        return items if items and items[0]["referral_status"] == "requested" else None
    [case] = await eventually(referred)
    assert case["responsible_la"] == "831"

    # The attack: another school (in LA 873), the same UPN, other names, a Camden postcode, an objection.
    attack = leaver(laestab="8734001", upn=first_body["upn"], given_name="Mallory", family_name="Other",
                    home_postcode="NW1 2DB", consent={"share_with_ncs": False, "objects_to_sharing": True})
    await _post(http, urls, tokens, attack)

    async def held_for_review():
        return await _db(databases, "select reason from review_queue where person_key = $1 and candidate_key is null",
                         first["person_key"])
    [review] = await eventually(held_for_review)
    assert review["reason"] == "upn_details_differ"

    [after] = (await http.get(f"{la_tracker}/v1/cases", params={"person_key": first["person_key"]},
                              headers=admin)).json()["items"]
    assert (after["case_id"], after["responsible_la"], after["status"], after["referral_status"]) == (
        case["case_id"], "831", "referred_to_ncs", "requested")
    detail = (await http.get(f"{la_tracker}/v1/cases/{case['case_id']}", headers=admin)).json()
    assert (detail["young_person"]["family_name"], detail["young_person"]["home_postcode"]) == (
        first_body["family_name"], first_body["home_postcode"])
    assert detail["consent"]["objects_to_sharing"] is False
    assert "report_held_for_review" in [e["kind"] for e in detail["timeline"]]
    referral = (await http.get(f"{urls['ncs_referral']}/v1/referrals", params={"person_key": first["person_key"]},
                               headers=admin)).json()["items"]
    assert [r["status"] for r in referral] == ["new"]  # not withdrawn

    # The first school still sees what happens next: the LA records an apprenticeship and closes the case.
    r = await http.put(f"{la_tracker}/v1/cases/{case['case_id']}/activity", json={"activity_code": "310"},
                       headers=tokens("la_staff", la="831"))
    assert r.status_code == 200 and r.json()["status"] == "closed"

    async def first_school_sees_it():
        got = await http.get(f"{urls['school_exit']}/v1/leavers/{first['leaver_id']}",
                             headers=tokens("school", laestab=first_body["school_laestab"]))
        return got.json() if got.json()["onward_status"] == "closed" else None
    assert (await eventually(first_school_sees_it))["onward_status"] == "closed"


async def _near_duplicate_review(http, urls, tokens) -> tuple[dict, dict, dict]:
    """Two permanent UPNs, the same names and DOB, both in Derby: a review item for LA 831."""
    first_body = leaver()
    first = await _post(http, urls, tokens, first_body)
    la = tokens("la_staff", la="831")

    async def has_case(pkey):
        items = (await http.get(f"{urls['la_tracker']}/v1/cases", params={"person_key": pkey}, headers=la)).json()
        return items["items"]
    await eventually(lambda: has_case(first["person_key"]))
    near_body = leaver(uln=None, given_name=first_body["given_name"], family_name=first_body["family_name"],
                       date_of_birth=first_body["date_of_birth"], home_postcode="DE22 3QW")
    near = await _post(http, urls, tokens, near_body) | {"body": near_body}

    async def review():
        items = (await http.get(f"{urls['la_tracker']}/v1/reviews", params={"page_size": 100}, headers=la)).json()
        return [i for i in items["items"] if i["person"]["person_key"] == near["person_key"]]
    [item] = await eventually(review)
    return first | {"body": first_body}, near, item


async def test_a_review_is_only_for_the_la_holding_both_people(http, urls, tokens):
    first, near, item = await _near_duplicate_review(http, urls, tokens)
    base = f"{urls['la_tracker']}/v1/reviews"
    la_831, la_873 = tokens("la_staff", la="831"), tokens("la_staff", la="873")
    mine = (await http.get(f"{base}/{item['review_id']}", headers=la_831)).json()
    assert (mine["person"]["upn"], mine["candidate"]["upn"]) == (near["body"]["upn"], first["body"]["upn"])
    assert mine["candidate"]["school_laestab"] == first["body"]["school_laestab"]
    assert mine["candidate"]["address_lines"] == first["body"]["address_lines"] and "phone" in mine["candidate"]
    listed = (await http.get(base, params={"page_size": 100}, headers=la_873)).json()["items"]
    assert item["review_id"] not in [i["review_id"] for i in listed]
    assert (await http.get(f"{base}/{item['review_id']}", headers=la_873)).status_code == 404
    assert (await http.post(f"{base}/{item['review_id']}", json={"decision": "merge"},
                            headers=la_873)).status_code == 404
    assert (await http.post(f"{base}/{item['review_id']}/split", headers=la_873)).status_code == 404

    # One of them moves to Cambridgeshire (873): no LA holds both, so the review closes, said on both cases.
    await _post(http, urls, tokens, near["body"] | {"home_postcode": "CB1 0DW"})

    async def closed():
        r = (await http.get(f"{base}/{item['review_id']}", headers=tokens("admin"))).json()
        return r if r["status"] == "closed_cross_la" else None
    await eventually(closed)
    for who in (la_831, la_873):
        assert (await http.get(f"{base}/{item['review_id']}", headers=who)).status_code == 404
    for pkey, la in ((first["person_key"], la_831), (near["person_key"], la_873)):
        [case] = [c for c in (await http.get(f"{urls['la_tracker']}/v1/cases", params={"person_key": pkey},
                                             headers=la)).json()["items"] if c["status"] != "transferred"]
        detail = (await http.get(f"{urls['la_tracker']}/v1/cases/{case['case_id']}", headers=la)).json()
        assert {"kind": "review_closed", "reason": "people_in_different_las"}.items() <= next(
            e for e in detail["timeline"] if e["kind"] == "review_closed").items()


async def test_staff_can_undo_a_merge_and_both_people_get_their_cases_back(http, urls, tokens, databases):
    first, near, item = await _near_duplicate_review(http, urls, tokens)
    la = tokens("la_staff", la="831", sub="tracker-9")
    base = f"{urls['la_tracker']}/v1/reviews/{item['review_id']}"
    merged = await http.post(base, json={"decision": "merge"}, headers=la)
    assert merged.status_code == 200 and merged.json()["status"] == "merged"
    cases = f"{urls['la_tracker']}/v1/cases"
    [dup] = (await http.get(cases, params={"person_key": near["person_key"]}, headers=la)).json()["items"]
    [kept] = (await http.get(cases, params={"person_key": first["person_key"]}, headers=la)).json()["items"]
    assert (dup["status"], dup["reason"], dup["referral_status"]) == ("closed", "merged_duplicate", "withdrawn")
    dup_detail = (await http.get(f"{cases}/{dup['case_id']}", headers=la)).json()
    assert next(e for e in dup_detail["timeline"] if e["kind"] == "merged")["into_case_id"] == kept["case_id"]
    kept_detail = (await http.get(f"{cases}/{kept['case_id']}", headers=la)).json()
    assert next(e for e in kept_detail["timeline"] if e["kind"] == "merged_in")["from_case_ids"] == [dup["case_id"]]

    split = await http.post(f"{base}/split", headers=la)
    assert split.status_code == 200 and split.json()["status"] == "split"
    assert (await http.post(f"{base}/split", headers=la)).status_code == 409  # undone once
    [dup] = (await http.get(cases, params={"person_key": near["person_key"]}, headers=la)).json()["items"]
    assert (dup["status"], dup["referral_status"]) == ("referred_to_ncs", "requested")  # referred again
    for case_id in (dup["case_id"], kept["case_id"]):
        detail = (await http.get(f"{cases}/{case_id}", headers=la)).json()
        assert "split" in [e["kind"] for e in detail["timeline"]]
    [person] = await _db(databases, "select merged_into from young_people where person_key = $1", near["person_key"])
    assert person["merged_into"] is None
    assert await _db(databases, "select 1 from person_aliases where alias_key = $1", near["person_key"]) == []
