"""`make demo`'s examples take every route on the running stack, whatever the seed."""
from __future__ import annotations

import asyncio
import random

import httpx

from onward import demo


def _run(urls: dict, seed: int) -> dict[str, tuple]:
    with httpx.Client(timeout=30) as http:
        submitted = demo.submit(http, urls, demo.examples(seed, seed % 9_000_000 + 1))
        return {label: (case, ref) for label, _, case, ref in demo.outcomes(http, urls, submitted, wait=30)}


async def test_demo_examples_show_every_route_whatever_the_seed(urls):
    rows = await asyncio.to_thread(_run, urls, random.randrange(10**6))
    case = {label: c and (c["status"], c["reason"], c["responsible_la"], c["la_review"]) for label, (c, _) in rows.items()}
    referred = {label for label, (_, ref) in rows.items() if ref}
    assert case["referred to the NCS"][:2] == ("referred_to_ncs", "no_known_destination")
    assert case["no consent"][:2] == ("not_known", "no_consent")
    assert case["EHC plan"][:2] == ("send_caseload", "send_caseload")
    assert case["care leaver"][:2] == ("leaving_care", "leaving_care")
    assert case["confirmed destination"] is None
    assert case["intended destination"][:2] == ("awaiting_confirmation", "awaiting_confirmation")
    assert case["lives in another LA"][2] == "202"
    assert case["Scottish postcode"][2:] == ("831", "postcode_outside_england")
    assert referred == {"referred to the NCS", "lives in another LA", "Scottish postcode", "twin (1 of 2)",
                        "twin (2 of 2)"}
    assert rows["twin (1 of 2)"][0]["case_id"] != rows["twin (2 of 2)"][0]["case_id"]
