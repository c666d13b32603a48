"""The web pages in a real browser: Playwright driving Debian's chromium (headless), with axe-core on every page.

An LA officer works one case from not_known to closed by recording the activity, and another by
recording consent, which refers it; an NCS adviser then works that referral from new to closed, and
the outcome closes the LA's case. Every page visited is checked with axe-core (WCAG 2.2 A/AA rules):
no serious or critical violations. The queue, case and referral pages are saved as screenshots (for the
README's docs/screenshots: `make screenshots`).
"""
from __future__ import annotations

import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect

from tests.e2e.conftest import eventually
from tests.e2e.leavers import leaver

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web" / "dist" / "axe.min.js"
# Every run takes the screenshots; only `make screenshots` (ONWARD_SCREENSHOTS=docs/screenshots)
# writes them where the README shows them, so a test run does not rewrite tracked files.
SHOTS = ROOT / os.environ.get("ONWARD_SCREENSHOTS", ".run/test/screenshots")
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling Google's hosts, which this machine refuses.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
        "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium: make install")


@pytest.fixture(scope="module")
async def browser():
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        await b.close()


class Visitor:
    """One signed-in person's browser, which runs axe-core on every page it lands on."""

    def __init__(self, page: Page, base: str):
        self.page, self.base, self.checked = page, base, []

    async def axe(self) -> None:
        await self.page.add_script_tag(path=str(AXE))
        result = await self.page.evaluate(
            "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
        bad = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, f"axe-core on {self.page.url}:\n" + "\n".join(bad)
        self.checked.append(self.page.url)

    async def go(self, path: str, *, status: int = 200) -> None:
        response = await self.page.goto(self.base + path)
        assert response.status == status, f"{path}: {response.status}"
        await self.axe()

    async def submit(self, button: str, *, status: int = 200) -> None:
        async with self.page.expect_navigation() as nav:
            await self.page.get_by_role("button", name=button, exact=True).click()
        response = await nav.value
        assert response.status == status, f"{button} on {self.page.url}: {response.status}"
        await self.axe()

    async def assign_to_me(self, what: str, done: str) -> None:
        """From a case or referral page: "Change who ... is assigned to", choose "Me", and see it done by name."""
        await self.page.get_by_role("link", name=re.compile(f"Change who the {what} is assigned to")).click()
        await self.page.wait_for_load_state()
        await self.axe()
        await self.page.get_by_label("Me (Test Officer)").check()
        await self.submit("Assign")
        await expect(self.page.locator(".govuk-notification-banner--success")).to_contain_text(done)
        await expect(self.page.locator(".moj-timeline")).to_contain_text("by Test Officer")

    async def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def sign_in(browser, base: str, role_label: str, scope: str | None) -> Visitor:
    # bypass_csp lets the test inject axe-core; the pages' own CSP allows no inline script.
    context = await browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    v = Visitor(await context.new_page(), base)
    await v.go("/", status=200)  # redirected to the sign-in page
    await expect(v.page).to_have_url(re.compile(r"/sign-in\?next="))
    await expect(v.page.get_by_role("heading", level=1)).to_contain_text("Sign in")
    await v.submit("Sign in", status=422)  # nothing chosen: the error summary names the field
    await expect(v.page.locator(".govuk-error-summary")).to_contain_text("Select a role")
    await v.page.get_by_label(role_label).check()
    if scope:
        await v.page.get_by_label(re.compile("Local authority|NCS area")).select_option(label=scope)
    await v.page.get_by_label(re.compile("Your name")).fill("Test Officer")
    await v.submit("Sign in")
    return v


async def _submit_leaver(http, urls, tokens, **over) -> str:
    body = leaver(**over)
    r = await http.post(f"{urls['school_exit']}/v1/leavers", json=body,
                        headers=tokens("school", laestab=body["school_laestab"]))
    assert r.status_code == 202, r.text
    return body, r.json()["person_key"]


async def _case_of(http, urls, tokens, person_key: str) -> dict:
    async def probe():
        r = await http.get(f"{urls['la_tracker']}/v1/cases", params={"person_key": person_key},
                           headers=tokens("la_staff", la="831"))
        return r.json()["items"]
    return (await eventually(probe))[0]


NO_CONSENT = {"share_with_ncs": False, "objects_to_sharing": False}


async def test_la_officer_works_a_case_from_not_known_to_closed(browser, http, urls, tokens):
    body, pkey = await _submit_leaver(http, urls, tokens, consent=NO_CONSENT)
    case = await _case_of(http, urls, tokens, pkey)
    assert case["status"] == "not_known"
    la = await sign_in(browser, urls["la_tracker"], "LA tracking staff", "Derby (831)")
    await expect(la.page).to_have_url(re.compile(r"/cases$"))
    await expect(la.page.get_by_role("heading", level=1)).to_contain_text("Cases")

    # Find them by a part of their family name in the queue's search box.
    await la.page.get_by_label("Search", exact=True).fill(body["family_name"][3:])
    await la.submit("Search")
    row = la.page.locator("#cases tbody tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Not known")
    await la.page.get_by_role("link", name=f"{body['given_name']} {body['family_name']}").click()
    await la.axe()
    await expect(la.page).to_have_url(re.compile(rf"/cases/{case['case_id']}$"))
    await expect(la.page.get_by_role("heading", level=1)).to_have_text(f"{body['given_name']} {body['family_name']}")
    await expect(la.page.locator("main .govuk-tag").first).to_have_text("Not known")

    # A contact: first without choosing anything (errors), then properly.
    await la.page.get_by_role("button", name="Record a contact").click()
    await la.axe()
    await la.submit("Record contact", status=422)
    summary = la.page.locator(".govuk-error-summary")
    await expect(summary).to_contain_text("Select how you contacted them")
    await expect(la.page.locator("#method-error")).to_be_visible()
    await la.page.get_by_label("Phone").check()
    await la.page.get_by_label("Reached").check()
    await la.page.get_by_label("Note (optional)").fill("Starting an apprenticeship next month")
    await la.submit("Record contact")
    await expect(la.page.locator(".govuk-notification-banner--success")).to_contain_text("Contact recorded")
    await expect(la.page.locator(".moj-timeline")).to_contain_text("Starting an apprenticeship")

    # Their activity: an apprenticeship (NCCIS 310) closes the case.
    await la.page.get_by_role("button", name="Record their activity").click()
    await la.axe()
    await la.page.get_by_label("Activity (NCCIS code)").select_option("310")
    await la.submit("Record activity")
    await expect(la.page.locator(".govuk-notification-banner--success")).to_contain_text("Activity recorded")
    await expect(la.page.locator("main .govuk-tag").first).to_have_text("Closed")
    await expect(la.page.locator(".govuk-summary-list").nth(1)).to_contain_text("310 – Apprenticeship")
    r = await http.get(f"{urls['la_tracker']}/v1/cases/{case['case_id']}", headers=tokens("la_staff", la="831"))
    assert r.json()["status"] == "closed"

    # Another LA's officer gets the 404 page, in the same style, for this case.
    other = await sign_in(browser, urls["la_tracker"], "LA tracking staff", "Camden (202)")
    await other.go(f"/cases/{case['case_id']}", status=404)
    await expect(other.page.get_by_role("heading", level=1)).to_have_text("Page not found")


async def test_la_consent_refers_and_the_ncs_adviser_works_the_referral_to_closed(browser, http, urls, tokens):
    body, pkey = await _submit_leaver(http, urls, tokens, consent=NO_CONSENT)
    case = await _case_of(http, urls, tokens, pkey)
    name = f"{body['given_name']} {body['family_name']}"
    la = await sign_in(browser, urls["la_tracker"], "LA tracking staff", "Derby (831)")
    await la.go("/cases?status=not_known")
    await expect(la.page.get_by_role("link", name="Not known (", exact=False).first).to_have_attribute(
        "aria-current", "page")
    await la.shot("la-queue")
    await la.go(f"/cases/{case['case_id']}")
    # Referral is not offered without consent; the page says what to do instead.
    await expect(la.page.get_by_role("button", name="Refer to the NCS")).to_have_count(0)
    await la.page.get_by_role("link", name="record their consent").click()
    await la.axe()
    await la.page.get_by_label("Yes").check()
    await la.page.get_by_label("The young person, verbally").check()
    await la.submit("Record consent")
    # Consent makes routing run again: the case is referred to the NCS on its own, in one step.
    await expect(la.page.locator("main .govuk-tag").first).to_have_text("Referred to NCS")
    await expect(la.page.locator(".govuk-notification-banner--success")).to_have_text(
        re.compile("Consent recorded and referred to East Midlands National Careers Service"))
    await expect(la.page.locator(".moj-timeline__item")).to_have_count(2)  # opened, then consent and referral
    await expect(la.page).to_have_title(re.compile(name))
    await la.shot("la-case")

    async def referral():
        r = await http.get(f"{urls['ncs_referral']}/v1/referrals", params={"person_key": pkey},
                           headers=tokens("admin"))
        return r.json()["items"]
    ref = (await eventually(referral))[0]

    ncs = await sign_in(browser, urls["ncs_referral"], "NCS adviser", "East Midlands")
    await expect(ncs.page).to_have_url(re.compile(r"/referrals$"))
    await expect(ncs.page.locator(".govuk-summary-list").first).to_contain_text("Waiting to be claimed")
    await ncs.go("/referrals?status=new&sort=-received_at")
    await ncs.shot("ncs-queue")
    await ncs.page.get_by_role("link", name=name).click()
    await ncs.axe()
    await expect(ncs.page.get_by_role("heading", level=1)).to_have_text(name)
    await expect(ncs.page.locator("main .govuk-tag").first).to_have_text("New")
    text = await ncs.page.locator("main").inner_text()
    for held_by_la_only in (body["upn"], body["uln"], body["home_postcode"], "1 Example Street"):
        assert held_by_la_only not in text

    await ncs.submit("Claim this referral")
    await expect(ncs.page.locator("main .govuk-tag").first).to_have_text("Claimed")
    await ncs.page.get_by_role("button", name="Record a contact").click()
    await ncs.page.get_by_label("Phone").check()
    await ncs.page.get_by_label("Reached").check()
    await ncs.submit("Record contact")
    await expect(ncs.page.locator("main .govuk-tag").first).to_have_text("In contact")
    await ncs.page.get_by_role("button", name="Record the outcome").click()
    await ncs.submit("Record outcome", status=422)
    await expect(ncs.page.locator(".govuk-error-summary")).to_contain_text("activity")
    await ncs.page.get_by_label(re.compile("What are they doing now")).select_option("230")
    await ncs.submit("Record outcome")
    await expect(ncs.page.locator("main .govuk-tag").first).to_have_text("Closed")
    await ncs.shot("ncs-referral")

    # The outcome flows back over Kafka and closes the LA's case; the LA page shows it.
    async def closed():
        r = await http.get(f"{urls['la_tracker']}/v1/cases/{case['case_id']}", headers=tokens("la_staff", la="831"))
        return r.json()["status"] == "closed"
    await eventually(closed)
    await la.go(f"/cases/{case['case_id']}")
    await expect(la.page.locator("main .govuk-tag").first).to_have_text("Closed")
    await expect(la.page.locator(".moj-timeline")).to_contain_text("230")


async def test_forms_without_the_csrf_token_are_refused_and_sign_out_ends_the_session(browser, urls, http):
    la = await sign_in(browser, urls["la_tracker"], "Administrator", None)
    await la.go("/reviews")
    await la.go("/exports")
    # A cross-site form post carries no token: 403 page, nothing done.
    r = await la.page.request.post(urls["la_tracker"] + "/sign-out", form={"csrf_token": "forged"})
    assert r.status == 403
    await la.go("/cases")
    await la.submit("Sign out")
    await expect(la.page.locator(".govuk-notification-banner")).to_contain_text("You have signed out")
    await la.go("/cases")  # back to sign-in
    await expect(la.page).to_have_url(re.compile(r"/sign-in\?next=%2Fcases"))
    # The session cookie is HttpOnly and Secure, never readable by page scripts.
    r = await http.get(urls["la_tracker"] + "/cases", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/sign-in")


async def test_the_accessibility_check_finds_violations_when_there_are_some(browser):
    """The axe-core check above is not vacuous: on a page with an unlabelled input and an image without
    alt text it reports serious or critical violations."""
    context = await browser.new_context(bypass_csp=True)
    v = Visitor(await context.new_page(), "")
    await v.page.set_content('<html lang="en"><title>x</title><main><img src="a.png"><input type="text"></main></html>')
    with pytest.raises(AssertionError, match="image-alt|label"):
        await v.axe()
    await context.close()


async def test_la_officer_checks_the_nccis_return_and_follows_a_breach_to_the_case(browser, http, urls, tokens):
    # Leicester (856): no other test uses it. A school reports 616 (start agreed) without a review date.
    born = date(date.today().year - 17 + (date.today().month >= 9), 2, 1).isoformat()   # academic age 16
    body, pkey = await _submit_leaver(http, urls, tokens, school_laestab="8564001", home_postcode="LE1 1AA",
                                      nc_year=12, date_of_birth=born,
                                      destination={"activity_code": "616", "status": "confirmed"})

    async def case():
        r = await http.get(f"{urls['la_tracker']}/v1/cases", params={"person_key": pkey}, headers=tokens("admin"))
        return r.json()["items"]
    await eventually(case)
    la = await sign_in(browser, urls["la_tracker"], "LA tracking staff", "Leicester (856)")
    month_end = (date.today().replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    await la.go(f"/exports/check?period_end={month_end.isoformat()}")
    await expect(la.page.locator('#counts [data-priority="1"]')).to_have_text("1")
    await expect(la.page.locator('#counts [data-priority="file"]')).to_have_text("0")
    await expect(la.page.locator("main h2").first).to_have_text(
        f"Return for Leicester, period ending {month_end.day} {month_end:%B %Y}")
    row = la.page.locator("tbody tr", has_text="without ReviewDate")
    await expect(row.locator("td").first).to_have_text("262")
    await la.shot("nccis-check")
    async with la.page.expect_navigation():
        await row.get_by_role("link", name=f"{body['given_name']} {body['family_name']}").click()
    await la.axe()
    await expect(la.page.get_by_role("heading", level=1)).to_contain_text(body["family_name"])
    async with la.page.expect_navigation():
        await la.page.get_by_role("link", name="Change level of need").click()
    await la.axe()
    await la.page.get_by_label("3 Specialist").check()
    await la.submit("Save level of need")
    await expect(la.page.locator(".govuk-summary-list__row", has_text="Level of need")).to_contain_text("3 Specialist")

    await la.go("/exports/settings")
    await la.page.get_by_label("330 ").fill("weeks:3")
    await la.submit("Save settings", status=422)
    await expect(la.page.locator(".govuk-error-summary")).to_contain_text("not a currency rule")
    await la.page.get_by_label("330 ").fill("months:3")
    await la.submit("Save settings")
    await expect(la.page.locator(".govuk-notification-banner")).to_contain_text("Settings saved")
    settings = (await http.get(f"{urls['la_tracker']}/v1/nccis/settings", headers=tokens("la_staff", la="856"))).json()
    assert settings["currency"]["330"] == "months:3"
