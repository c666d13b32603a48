"""Casework in a real browser (Playwright driving Debian's chromium, axe-core on every page): search by
UPN, assignment (one case and in bulk), follow-up tasks due today, the three-attempt return to the LA
with its confirmation and undo, and the pages at 320 px without sideways scrolling."""
from __future__ import annotations

import re
import uuid
from datetime import date

import asyncpg
from playwright.async_api import expect

from tests.e2e.conftest import eventually
from tests.e2e.test_pages import ARGS, CHROMIUM, Visitor, _case_of, _submit_leaver, browser, pytestmark, sign_in  # noqa: F401

NO_CONSENT = {"share_with_ncs": False, "objects_to_sharing": False}


async def _find_by_upn(la: Visitor, upn: str, name: str) -> None:
    await la.go("/cases")
    await la.page.get_by_label("Search", exact=True).fill(upn)
    await la.submit("Search")
    await expect(la.page.locator("#cases tbody tr")).to_have_count(1)
    await la.page.get_by_role("link", name=name).click()
    await la.axe()


async def test_an_officer_finds_by_upn_assigns_and_follows_up_a_task_due_today(browser, http, urls, tokens):
    body, pkey = await _submit_leaver(http, urls, tokens, consent=NO_CONSENT)
    other, other_key = await _submit_leaver(http, urls, tokens, consent=NO_CONSENT)
    case = await _case_of(http, urls, tokens, pkey)
    await _case_of(http, urls, tokens, other_key)
    name = f"{body['given_name']} {body['family_name']}"
    la = await sign_in(browser, urls["la_tracker"], "LA tracking staff", "Derby (831)")

    await _find_by_upn(la, body["upn"], name)
    await expect(la.page).to_have_title(re.compile(name))
    await la.assign_to_me("case", "Case assigned")
    await expect(la.page.locator("main")).to_contain_text("Test Officer")

    # A follow-up task due today, with the GOV.UK date input; first with a date that does not exist.
    await la.page.get_by_role("button", name="Add a follow-up task").click()
    await la.axe()
    await la.page.get_by_label("What needs doing?").fill("Ring about the college open day")
    await la.page.get_by_label("Day").fill("31")
    await la.page.get_by_label("Month").fill("2")
    await la.page.get_by_label("Year").fill("2027")
    await la.submit("Add task", status=422)
    await expect(la.page.locator(".govuk-error-summary")).to_contain_text("Due date must be a real date")
    today = date.today()
    await la.page.get_by_label("Day").fill(str(today.day))
    await la.page.get_by_label("Month").fill(str(today.month))
    await la.page.get_by_label("Year").fill(str(today.year))
    await la.submit("Add task")
    await expect(la.page.locator("#tasks")).to_contain_text("Ring about the college open day")

    await la.go("/tasks?mine=yes")
    row = la.page.locator("#due tbody tr", has_text="Ring about the college open day")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text(name)
    await row.get_by_role("button", name=re.compile("Mark as done")).click()
    await la.page.wait_for_load_state()
    await la.axe()
    await expect(la.page.locator(".govuk-notification-banner--success")).to_contain_text("Task marked as done")
    await expect(la.page.locator("#due tbody tr", has_text="Ring about the college open day")).to_have_count(0)

    # My cases lists it; the other case is assigned in bulk from the list.
    await la.go("/cases?assigned=me")
    await expect(la.page.get_by_role("link", name=name)).to_be_visible()
    await la.go("/cases?q=" + other["upn"])
    await la.page.get_by_label(re.compile("Select " + other["given_name"])).check()
    await la.page.get_by_label("Assign the selected cases to").select_option(label="Test Officer")
    await la.submit("Assign selected cases")
    await expect(la.page.locator(".govuk-notification-banner--success")).to_contain_text("Cases assigned")
    await expect(la.page.locator("#cases tbody tr").first).to_contain_text("Test Officer")
    r = await http.get(f"{urls['la_tracker']}/v1/cases/{case['case_id']}", headers=tokens("la_staff", la="831"))
    assert r.json()["assigned_name"] == "Test Officer"
    await la.go("/cases?status=not_known")
    await la.shot("la-worklist")

    # 320 px wide: the queue and the case fit without the page scrolling sideways.
    narrow = await browser.new_context(bypass_csp=True, viewport={"width": 320, "height": 640},
                                       storage_state=await la.page.context.storage_state())
    small = Visitor(await narrow.new_page(), urls["la_tracker"])
    for path in ("/cases", f"/cases/{case['case_id']}", "/tasks"):
        await small.go(path)
        overflow = await small.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow} px at 320 px"
    await narrow.close()


async def test_three_unanswered_attempts_return_the_young_person_after_confirmation_and_can_be_undone(
        browser, http, urls, tokens, databases):
    body, pkey = await _submit_leaver(http, urls, tokens)  # consent from school: referred at once
    name = f"{body['given_name']} {body['family_name']}"

    async def referral():
        r = await http.get(f"{urls['ncs_referral']}/v1/referrals", params={"person_key": pkey}, headers=tokens("admin"))
        return r.json()["items"]
    ref = (await eventually(referral))[0]
    ncs = await sign_in(browser, urls["ncs_referral"], "NCS adviser", "East Midlands")
    await ncs.go(f"/referrals/{ref['referral_id']}")
    await expect(ncs.page.locator("main")).to_contain_text("Derby")
    await ncs.submit("Claim this referral")

    async def attempt(method: str) -> None:
        await ncs.go(f"/referrals/{ref['referral_id']}/contact")
        await ncs.page.get_by_label(method, exact=True).check()
        await ncs.page.get_by_label("No answer").check()
        await ncs.submit("Record contact")
    await attempt("Phone")
    await attempt("Phone")  # the same day and channel: still one attempt
    await expect(ncs.page.locator("main .govuk-tag").first).to_have_text("Trying to contact")
    conn = await asyncpg.connect(databases["ncs_referral"])
    try:
        await conn.execute("update referral_timeline set at = at - interval '8 days' where referral_id = $1",
                           uuid.UUID(ref["referral_id"]))
        await attempt("Text")
        await attempt("Email")  # the third counted attempt over 8 days: asks first, says what happens
        await expect(ncs.page.get_by_role("heading", level=1)).to_have_text("Return them to the LA?")
        await expect(ncs.page.locator(".govuk-warning-text")).to_contain_text(
            re.compile(rf"attempt 3 .*returns {body['given_name']} to Derby"))
        await ncs.submit("Yes, record it and return them to the LA")
        await expect(ncs.page.locator(".govuk-notification-banner--success")).to_contain_text("Returned to the LA")
        await ncs.submit("Undo the return to the LA")
        await expect(ncs.page.locator(".govuk-notification-banner--success")).to_contain_text("Return undone")
        await attempt("Letter")
        await ncs.submit("Yes, record it and return them to the LA")
        await conn.execute("update referrals set returned_at = now() - interval '25 hours' where referral_id = $1",
                           uuid.UUID(ref["referral_id"]))  # the undo day has passed: the sweep tells the LA
    finally:
        await conn.close()

    async def back_with_la():
        c = await _case_of(http, urls, tokens, pkey)
        return c if c["referral_status"] == "returned_to_la" else None
    case = await eventually(back_with_la)
    la = await sign_in(browser, urls["la_tracker"], "LA tracking staff", "Derby (831)")
    await expect(la.page.locator("#cases tbody tr").first).to_contain_text("Returned by NCS")  # sorted first
    await la.go(f"/cases/{case['case_id']}")
    await expect(la.page.locator("main")).to_contain_text("Returned by NCS")
    await expect(la.page.locator(".moj-timeline")).to_contain_text("820 – ")
    await la.shot("la-case-returned")


async def test_the_work_list_shows_only_young_people_who_asked_for_help_when_asked(browser, http, urls, tokens):
    """Issue 17: the queue's "asked for help" filter. A young person who never used their own pages is
    found by UPN, and not once the filter is on (the filter goes to the same query as the API's)."""
    body, pkey = await _submit_leaver(http, urls, tokens, consent=NO_CONSENT)
    await _case_of(http, urls, tokens, pkey)
    la = await sign_in(browser, urls["la_tracker"], "LA tracking staff", "Derby (831)")
    await la.go(f"/cases?q={body['upn']}")
    await expect(la.page.locator("#cases tbody tr")).to_have_count(1)
    await la.go(f"/cases?q={body['upn']}&asked=yes")
    await expect(la.page.locator("#cases")).to_have_count(0)
    await expect(la.page.get_by_label("Only young people who asked for help")).to_be_checked()
    await la.go("/cases?asked=maybe")
    await expect(la.page.locator(".govuk-error-summary")).to_contain_text("asked for help")
