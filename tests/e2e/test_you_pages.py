"""The young person's pages in a real browser on a 360 px wide phone (issue 17).

The link comes from the development mailbox; every page is checked with axe-core (WCAG 2.2 A/AA) and
for horizontal scrolling; each answer is given as a person would, by label. The start, question,
help and "who has your information" pages are saved as screenshots for the README.
"""
from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.e2e.test_pages import CHROMIUM, Path, Visitor, browser  # noqa: F401 (browser: the fixture)
from tests.e2e.test_young_person import _case, young_person_with_link
from tests.e2e.conftest import eventually

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium: make install")
PHONE = {"width": 360, "height": 740}


class Phone(Visitor):
    """A visitor on a phone: besides axe-core, no page may scroll sideways."""

    async def axe(self) -> None:
        await super().axe()
        wide = await self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, f"{self.page.url} scrolls {wide} px sideways at 360 px"

    async def choose(self, label: str, button: str = "Continue") -> None:
        await self.page.get_by_label(label, exact=True).check()
        await self.submit(button)


async def phone(browser, base: str) -> Phone:
    context = await browser.new_context(bypass_csp=True, viewport=PHONE, is_mobile=True, has_touch=True,
                                        device_scale_factor=2)
    return Phone(await context.new_page(), base)


async def test_a_young_person_answers_on_a_phone_and_asks_for_help(browser, http, urls, tokens):
    body, pkey, link = await young_person_with_link(http, urls, tokens)
    yp = await phone(browser, urls["la_tracker"])
    await yp.go(link.removeprefix(urls["la_tracker"]))
    await expect(yp.page.get_by_role("heading", level=1)).to_have_text(f"Hello {body['given_name']}")
    await yp.shot("you-start")
    await yp.submit("Start now")

    await expect(yp.page.get_by_role("heading", level=1)).to_have_text("What are you doing now?")
    await yp.shot("you-doing")
    await yp.submit("Continue", status=422)  # nothing chosen: the error says what to do
    await expect(yp.page.locator(".govuk-error-summary")).to_contain_text("Select what you are doing now")
    await yp.choose("A job")
    await expect(yp.page.get_by_role("heading", level=1)).to_have_text("What kind of job is it?")
    await yp.choose("Part-time")
    await expect(yp.page.get_by_role("heading", level=1)).to_have_text("Where do you work?")
    await yp.page.get_by_label("Name of your employer").fill("Derby Bakery")
    await yp.page.get_by_label("Day").fill("1")
    await yp.page.get_by_label("Month").fill("9")
    await yp.page.get_by_label("Year").fill("2026")
    await yp.submit("Send")

    await expect(yp.page.get_by_role("heading", level=1)).to_have_text("Would you like help from a careers adviser?")
    await yp.shot("you-help")
    await yp.choose("Yes")
    await yp.page.get_by_label("A text message").check()
    await yp.page.get_by_label("Evening").check()
    await yp.page.get_by_label(re.compile("anything the adviser should know")).fill("More hours, or a course")
    await yp.submit("Ask for help")
    await expect(yp.page.locator(".govuk-panel")).to_contain_text(f"Thank you, {body['given_name']}")
    await yp.page.get_by_role("link", name="See who has your information").click()
    await yp.axe()
    await expect(yp.page.get_by_role("heading", level=1)).to_have_text("Who has your information")
    await yp.shot("you-information")

    # A part-time job is EET: the case closes with the young person's answer (and their request) on it.
    async def closed():
        case = await _case(http, urls, tokens, pkey)
        return case if case["status"] == "closed" else None
    case = await eventually(closed)
    assert case["activity_code"] == "360"
    assert len(yp.checked) >= 8
