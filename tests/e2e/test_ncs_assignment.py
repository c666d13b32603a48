"""NCS referrals assigned to named advisers (issue 16), over HTTP and in a real browser (Playwright,
axe-core on every page): one referral and in bulk, "My referrals", the assignee's name on the referral
and the list, and another area's referral answered 404."""
from __future__ import annotations

import re
import uuid

from playwright.async_api import expect

from tests.e2e.conftest import eventually
from tests.e2e.test_pages import ARGS, CHROMIUM, _submit_leaver, browser, pytestmark, sign_in  # noqa: F401

EAST_MIDLANDS = {"ncs_area": "East Midlands"}


async def _referral_of(http, urls, tokens, person_key: str) -> dict:
    async def probe():
        r = await http.get(f"{urls['ncs_referral']}/v1/referrals", params={"person_key": person_key},
                           headers=tokens("admin"))
        return r.json()["items"]
    return (await eventually(probe))[0]


async def _adviser(http, urls, tokens, name: str, area: str = "East Midlands") -> tuple[str, dict]:
    """An adviser who has signed in (the advisers list remembers them by name)."""
    sub = f"adviser-{uuid.uuid4().hex[:8]}"
    headers = tokens("ncs_adviser", ncs_area=area, sub=sub, name=name)
    r = await http.get(f"{urls['ncs_referral']}/v1/advisers", headers=headers)
    assert r.status_code == 200 and name in [a["name"] for a in r.json()["items"]], r.text
    return sub, headers


async def test_referrals_are_assigned_by_name_within_the_area_and_listed_as_my_referrals(http, urls, tokens):
    _, pkey = await _submit_leaver(http, urls, tokens)
    _, other_key = await _submit_leaver(http, urls, tokens)
    ref, other = await _referral_of(http, urls, tokens, pkey), await _referral_of(http, urls, tokens, other_key)
    asha, asha_h = await _adviser(http, urls, tokens, "Asha Adviser")
    ben, ben_h = await _adviser(http, urls, tokens, "Ben Adviser")
    london, london_h = await _adviser(http, urls, tokens, "Lou London", area="London")
    base = f"{urls['ncs_referral']}/v1/referrals"

    r = await http.put(f"{base}/{ref['referral_id']}/assignee", json={"assignee": ben}, headers=asha_h)
    assert r.status_code == 200, r.text
    assert (r.json()["assigned_to"], r.json()["assigned_name"]) == (ben, "Ben Adviser")
    mine = (await http.get(base, params={"assigned": "me"}, headers=ben_h)).json()["items"]
    assert [(i["referral_id"], i["assigned_name"]) for i in mine] == [(ref["referral_id"], "Ben Adviser")]
    timeline = (await http.get(f"{base}/{ref['referral_id']}", headers=ben_h)).json()["timeline"]
    assert (timeline[-1]["kind"], timeline[-1]["actor"], timeline[-1]["to"]) == ("assigned", "Asha Adviser",
                                                                                  "Ben Adviser")

    # Another area's adviser: the referral does not exist for them, alone or in a bulk request.
    r = await http.put(f"{base}/{ref['referral_id']}/assignee", json={"assignee": london}, headers=london_h)
    assert r.status_code == 404, r.text
    r = await http.post(f"{base}/assign", json={"referral_ids": [other["referral_id"]], "assignee": london},
                        headers=london_h)
    assert r.status_code == 404, r.text
    # Nor can they be given one of this area's referrals.
    r = await http.put(f"{base}/{other['referral_id']}/assignee", json={"assignee": london}, headers=asha_h)
    assert r.status_code == 409 and "not an adviser of this NCS area" in r.text

    r = await http.post(f"{base}/assign", json={"referral_ids": [ref["referral_id"], other["referral_id"]],
                                                "assignee": asha}, headers=asha_h)
    assert r.status_code == 200 and r.json()["assigned"] == 2, r.text
    mine = (await http.get(base, params={"assigned": asha}, headers=ben_h)).json()["items"]
    assert sorted(i["referral_id"] for i in mine) == sorted([ref["referral_id"], other["referral_id"]])
    r = await http.post(f"{base}/assign", json={"referral_ids": [], "assignee": asha}, headers=asha_h)
    assert r.status_code == 422 and "referral_ids" in r.text


async def test_an_adviser_assigns_one_referral_and_several_at_once_from_the_pages(browser, http, urls, tokens):
    body, pkey = await _submit_leaver(http, urls, tokens)
    other, other_key = await _submit_leaver(http, urls, tokens)
    ref = await _referral_of(http, urls, tokens, pkey)
    await _referral_of(http, urls, tokens, other_key)
    colleague = f"Cara Colleague {uuid.uuid4().hex[:4]}"
    await _adviser(http, urls, tokens, colleague)
    name, other_name = (f"{b['given_name']} {b['family_name']}" for b in (body, other))
    ncs = await sign_in(browser, urls["ncs_referral"], "NCS adviser", "East Midlands")

    await ncs.go(f"/referrals/{ref['referral_id']}")
    await ncs.assign_to_me("referral", "Referral assigned")
    await expect(ncs.page.locator(".govuk-summary-list")).to_contain_text("Test Officer")

    await ncs.go(f"/referrals?assigned=me&q={body['family_name']}")
    await expect(ncs.page.get_by_role("heading", level=1)).to_contain_text("My referrals")
    await expect(ncs.page.locator("#referrals tbody tr", has_text=name)).to_contain_text("Test Officer")

    await ncs.go(f"/referrals?q={other['family_name']}")
    await ncs.page.get_by_label(re.compile("Select " + other["given_name"])).check()
    await ncs.page.get_by_label("Assign the selected referrals to").select_option(label=colleague)
    await ncs.submit("Assign selected referrals")
    await expect(ncs.page.locator(".govuk-notification-banner--success")).to_contain_text("Referrals assigned")
    await expect(ncs.page.locator("#referrals tbody tr", has_text=other_name)).to_contain_text(colleague)
    await ncs.page.get_by_label("Assigned to", exact=True).select_option(label=colleague)
    await ncs.submit("Apply")
    await expect(ncs.page.locator("#referrals tbody tr")).to_have_count(1)
    await ncs.go("/referrals?assigned=none&q=" + other["family_name"])
    await expect(ncs.page.locator("main")).not_to_contain_text(other_name)
