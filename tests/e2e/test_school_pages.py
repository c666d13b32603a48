"""The school's pages in a real browser (Playwright + Debian's chromium, axe-core on every page): a data
manager uploads a CTF and a CSV as their MIS and spreadsheet write them, reads the per-row results, finds a
leaver, sees what the LA did, records a destination and downloads the destinations summary; another school
sees none of it through any page or download; the API documentation works with every other host blocked.
"""
from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.async_api import expect

from onward.person_key import person_key
from onward.settings import Settings
from tests.e2e.conftest import eventually
from tests.e2e.leavers import leaver
from tests.e2e.test_pages import ARGS, CHROMIUM, Visitor, browser  # noqa: F401  (the browser fixture)
from tests.school_files import csv_file, ctf

# SCHOOL_B has no leavers of its own in the whole suite (other test files' "school B", 2024001, has some: an
# NCS referral test reports a Camden leaver), so its destinations summary must be all zeros.
SCHOOL_A, SCHOOL_B = "8314001", "2024002"
NO_CONSENT = {"share_with_ncs": False, "objects_to_sharing": False}
pytestmark = pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="needs chromium")


async def school_sign_in(browser, base: str, laestab: str, width: int = 1280) -> Visitor:
    context = await browser.new_context(bypass_csp=True, viewport={"width": width, "height": 900})
    v = Visitor(await context.new_page(), base)
    await v.go("/")  # redirected to sign-in
    await expect(v.page).to_have_url(re.compile(r"/sign-in\?next="))
    await v.page.get_by_label("School data manager").check()
    await v.submit("Sign in", status=422)  # no LAESTAB: the error summary names it
    await expect(v.page.locator(".govuk-error-summary")).to_contain_text("LAESTAB")
    await v.page.get_by_label("Your school's LAESTAB").fill(laestab)
    await v.page.get_by_label(re.compile("Your name")).fill("Data Manager")
    await v.submit("Sign in")
    await expect(v.page).to_have_url(re.compile(r"/leavers$"))
    return v


async def _upload(v: Visitor, name: str, data: bytes, status: int = 200) -> None:
    await v.go("/upload")
    await v.page.get_by_label("CTF or CSV file").set_input_files({"name": name, "mimeType": "text/plain",
                                                                  "buffer": data})
    await v.submit("Upload file", status=status)


async def test_a_school_uploads_its_files_follows_its_leavers_and_reports_destinations(browser, http, urls, tokens):
    plan = leaver(sen=[("2025-01-06", "E"), ("2021-09-01", "K")], consent=NO_CONSENT)
    unsure = leaver(consent=NO_CONSENT)
    no_history = leaver()
    data = ctf([plan, unsure, no_history])
    own = b"<Estab>4001</Estab><SchoolName>Example Academy</SchoolName>"
    at = data.rfind(own)  # the last pupil's history has no entry for this school
    data = data[:at] + b"<Estab>4999</Estab><SchoolName>Another school</SchoolName>" + data[at + len(own):]
    a = await school_sign_in(browser, urls["school_exit"], SCHOOL_A)
    await _upload(a, "CTF_8314001_MMM_001.XML", data)
    results = a.page.locator("#upload-results tbody tr")
    await expect(results).to_have_count(3)
    await expect(results.nth(0)).to_contain_text("Accepted")
    await expect(results.nth(2)).to_contain_text("Not accepted")
    await expect(results.nth(2)).to_contain_text("SchoolHistory/School")

    csv_good, csv_bad = leaver(gender="F", ethnicity="WBRI"), leaver(gender="X")
    await _upload(a, "leavers.csv", csv_file([csv_good, csv_bad]))
    await expect(a.page.locator("#results")).to_contain_text("leavers.csv")
    await expect(a.page.locator("main")).to_contain_text("line 1 is the header row")
    bad_row = a.page.locator("#upload-results tbody tr").nth(1)
    await expect(bad_row.locator("td").first).to_have_text("3")
    await expect(bad_row).to_contain_text("gender:")
    await a.shot("school-upload")

    # What happened next: the LA records an apprenticeship for one leaver; the school's page shows it.
    la = tokens("la_staff", la="831")

    async def case_of(body):
        pkey = person_key(Settings().person_key_secret.get_secret_value(), body["upn"])
        r = await http.get(f"{urls['la_tracker']}/v1/cases", params={"person_key": pkey}, headers=la)
        return r.json()["items"][0] if r.json()["items"] else None
    case = await eventually(lambda: case_of(unsure))
    r = await http.put(f"{urls['la_tracker']}/v1/cases/{case['case_id']}/activity", json={"activity_code": "310"},
                       headers=la)
    assert r.status_code < 300, r.text
    await a.go("/leavers")
    await a.page.get_by_label("Name or UPN").fill(unsure["upn"])
    await a.submit("Apply filters")
    row = a.page.locator("#leavers tbody tr")
    await expect(row).to_have_count(1)

    async def shows_closed():
        await a.page.reload()
        return "Follow-up closed" in await row.inner_text()
    await eventually(shows_closed)
    await a.page.get_by_role("link", name=f"{unsure['given_name']} {unsure['family_name']}").click()
    await a.axe()
    await expect(a.page.locator(".moj-timeline")).to_contain_text("310 – Apprenticeship")

    # Record a destination for the leaver with an EHC plan: first with nothing chosen, then properly.
    await a.go("/leavers?q=" + plan["family_name"])
    await a.page.get_by_role("link", name=f"{plan['given_name']} {plan['family_name']}").click()
    await a.axe()
    await a.page.get_by_role("button", name="Record or correct their destination").click()
    await a.axe()
    await a.submit("Save destination", status=422)
    await expect(a.page.locator(".govuk-error-summary")).to_contain_text("Select whether it has started")
    await a.page.get_by_label("Activity (NCCIS code)").select_option("230")
    await a.page.get_by_label("Confirmed: they have started").check()
    await a.submit("Save destination")
    await expect(a.page.locator(".govuk-notification-banner--success")).to_contain_text("Destination recorded")
    # Confirmed at once by the school; the LA then closes its SEND case, which the school may already see.
    await expect(a.page.locator("main .govuk-tag").first).to_have_text(
        re.compile("^(Destination confirmed|Follow-up closed: destination known)$"))

    await a.go("/leavers")
    await a.shot("school-leavers")
    await a.go("/destinations")
    table = a.page.locator("#destinations tbody tr").first
    await expect(table.locator("td").nth(0)).not_to_have_text("0")  # education: the confirmed 230
    await expect(a.page.locator("svg.app-chart").first).to_have_attribute("role", "img")
    await a.shot("school-destinations")
    download = await a.page.request.get(urls["school_exit"] + "/destinations.csv")
    rows = list(csv.reader(io.StringIO(await download.text())))
    assert rows[0][:3] == ["Leaving year", "Education", "Apprenticeship"] and int(rows[1][1]) >= 1
    assert int(rows[1][2]) >= 1  # the apprenticeship the LA recorded


async def test_another_school_sees_none_of_its_leavers_through_any_page_or_download(browser, http, urls, tokens):
    mine = leaver(laestab=SCHOOL_A, destination={"activity_code": "230", "status": "confirmed"})
    r = await http.post(f"{urls['school_exit']}/v1/leavers", json=mine, headers=tokens("school", laestab=SCHOOL_A))
    leaver_id = r.json()["leaver_id"]
    b = await school_sign_in(browser, urls["school_exit"], SCHOOL_B)
    for path in ("/leavers", f"/leavers?q={mine['upn']}", f"/leavers?q={mine['family_name']}"):
        await b.go(path)
        assert mine["family_name"] not in await b.page.locator("main").inner_text()
    for path in (f"/leavers/{leaver_id}", f"/leavers/{leaver_id}/destination"):
        await b.go(path, status=404)
        await expect(b.page.get_by_role("heading", level=1)).to_have_text("Page not found")
    posted = await b.page.request.post(urls["school_exit"] + f"/leavers/{leaver_id}/destination",
                                       form={"activity_code": "610", "status": "confirmed"})
    assert posted.status == 403  # no CSRF token from another site; with one it would be the 404 above
    summary = await b.page.request.get(urls["school_exit"] + "/destinations.csv")
    text = await summary.text()
    assert summary.status == 200 and all(cell == "0" for line in list(csv.reader(io.StringIO(text)))[1:]
                                         for cell in line[1:]), (summary.status, text[:500])
    got = (await http.get(f"{urls['school_exit']}/v1/leavers/{leaver_id}",
                          headers=tokens("school", laestab=SCHOOL_A))).json()
    assert got["destination"]["activity_code"] == "230"


async def test_school_pages_fit_a_320_pixel_screen(browser, urls):
    narrow = await school_sign_in(browser, urls["school_exit"], SCHOOL_A, width=320)
    for path in ("/leavers", "/upload", "/destinations"):
        await narrow.go(path)
        overflow = await narrow.page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 320, f"{path} is {overflow} px wide at 320 px"


@pytest.mark.parametrize("service", ["school_exit", "la_tracker", "ncs_referral"])
async def test_api_documentation_renders_with_every_other_host_blocked(browser, urls, service):
    context = await browser.new_context()
    page = await context.new_page()
    outside: list[str] = []

    async def only_this_host(route):
        if route.request.url.startswith(urls[service]):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()
    await page.route("**/*", only_this_host)
    await page.goto(urls[service] + "/docs")
    await expect(page.locator(".opblock-summary-path").first).to_be_visible(timeout=15000)
    await page.goto(urls[service] + "/redoc")
    await expect(page.locator("h1").first).to_contain_text("Onward", timeout=15000)
    assert outside == []
    await context.close()
