"""Probe: a young person's "I'd like help" on the /you/ pages to the referral in the NCS queue (issue 17).

Self-contained against a running stack: leavers with no destination and no consent open not_known
cases; la_tracker's scheduler loop sends each a link (the development mailbox, within one sweep
interval); each young person then answers "looking for work or training" and asks for help. The
clock runs from the POST of "Ask for help" (the HelpRequested event written) to the referral row
committed in ncs_referral: outbox relay, Kafka, la_tracker's worker (consent, routing, referral),
outbox relay, Kafka, ncs_referral's worker.
"""
from __future__ import annotations

import asyncio
import re
import time
import uuid
from urllib.parse import urlsplit

import asyncpg
import httpx

from onward.person_key import person_key

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Phone:
    """A young person's browser without JavaScript. Cookies are kept by hand: they are Secure, and httpx
    (like a browser on anything but localhost) would not send them over plain http."""

    def __init__(self, http: httpx.AsyncClient, base: str):
        self.http, self.base, self.cookies, self.csrf = http, base, {}, ""

    def _keep(self, r: httpx.Response) -> None:
        for header in r.headers.get_list("set-cookie"):
            name, _, value = header.split(";")[0].partition("=")
            self.cookies[name] = value
        found = CSRF.search(r.text)
        if found:
            self.csrf = found.group(1)

    def _headers(self) -> dict:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    async def get(self, path: str) -> httpx.Response:
        r = await self.http.get(self.base + path, headers=self._headers(), follow_redirects=False)
        self._keep(r)
        return r

    async def post(self, path: str, data: dict) -> httpx.Response:
        r = await self.http.post(self.base + path, data={"csrf_token": self.csrf, **data}, headers=self._headers(),
                                 follow_redirects=False)
        self._keep(r)
        return r

    async def open_link(self, link: str) -> None:
        """Open a link from a message and start the visit (the link is used up)."""
        parts = urlsplit(link)
        r = await self.get(f"{parts.path}?{parts.query}")
        assert r.status_code == 200, r.status_code
        r = await self.post("/you", {"t": parts.query.removeprefix("t=")})
        assert r.status_code == 303, r.status_code


async def _links(la_db: str, emails: list[str], timeout: float) -> dict[str, str]:
    conn = await asyncpg.connect(la_db)
    deadline = time.monotonic() + timeout
    try:
        while True:
            rows = await conn.fetch("select to_address, link from dev_messages where to_address = any($1)", emails)
            found = {r["to_address"]: r["link"] for r in rows}
            if len(found) == len(emails) or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


async def help_to_referral(school_url: str, la_url: str, dbs: dict, token: dict, leavers: list[dict],
                           secret: str, link_timeout: float = 120) -> list[float]:
    """Seconds from "Ask for help" to the referral in ncs_referral, one per leaver that got a link."""
    emails = [f"probe-{uuid.uuid4().hex[:12]}@example.org" for _ in leavers]
    people = [lv | {"destination": None, "email": e, "consent": {"share_with_ncs": False, "objects_to_sharing": False},
                    "send": {"ehcp": False, "sen_support": False}, "characteristics": [], "nc_year": 13}
              for lv, e in zip(leavers, emails)]
    timings = []
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(f"{school_url}/v1/leavers/batch", json={"leavers": people}, headers=token)
        assert r.status_code == 207, r.text[:300]
        links = await _links(dbs["la_tracker"], emails, link_timeout)
        ncs = await asyncpg.connect(dbs["ncs_referral"])
        try:
            for lv, email in zip(people, emails):
                if email not in links:
                    continue
                phone = Phone(http, la_url)
                await phone.open_link(links[email])
                await phone.post("/you/doing", {"answer": "looking"})
                await phone.post("/you/doing/words", {"words": "Anything outdoors"})
                await phone.post("/you/help", {"wants_help": "yes"})
                key = person_key(secret, lv["upn"])
                started = time.monotonic()
                await phone.post("/you/help/contact", {"contact_by": "text", "contact_time": "any"})
                while not await ncs.fetchval("select 1 from referrals where person_key = $1", key):
                    if time.monotonic() - started > 60:
                        break
                    await asyncio.sleep(0.005)
                else:
                    timings.append(time.monotonic() - started)
        finally:
            await ncs.close()
    return timings
