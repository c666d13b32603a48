"""Synthetic Year 13 leavers with valid identifiers, spread over LAs by their 2025 16-17 cohort sizes.

Deterministic for a seed. Shares follow domain.md section 3: about 5% with no destination captured,
5.4% with an EHC plan; the rest split between confirmed and intended destinations.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from onward.la_data import local_authorities
from schemas.identifiers import uln_check_digit, upn_check_letter

GIVEN = ["Amira", "Oliver", "Zara", "Noah", "Chloé", "Kofi", "Siobhán", "Jack", "Priya", "Mateusz", "Aoife", "Leo"]
FAMILY = ["Khan", "Smith", "O'Neill", "Nowak", "Okafor", "Jones", "Patel", "Brown-Hughes", "Williams", "Ahmed"]
EET_CODES = ["210", "220", "230", "240", "310", "320", "330", "340"]
NEET_CODES = ["610", "619", "540"]


def make_upn(la: str, serial: int) -> str:
    body = f"{la}{serial % 10000:04d}{26:02d}{serial // 10000 % 1000:03d}"
    return upn_check_letter(body) + body


def make_uln(rng: random.Random) -> str:
    while True:
        first9 = f"{rng.randrange(10**8, 10**9)}"
        check = uln_check_digit(first9)
        if check is not None and check < 10:
            return first9 + str(check)


def leaver(rng: random.Random, serial: int, la: str, leaving: date) -> dict:
    born = leaving - timedelta(days=365 * 18 + rng.randrange(-180, 180))
    roll = rng.random()
    if roll < 0.40:
        destination = {"activity_code": rng.choice(EET_CODES), "status": "confirmed"}
    elif roll < 0.75:
        destination = {"activity_code": rng.choice(EET_CODES), "status": "intended"}
    elif roll < 0.85:
        destination = {"activity_code": rng.choice(NEET_CODES), "status": "confirmed"}
    else:
        destination = None
    ehcp = rng.random() < 0.054
    characteristics = ["160"] if rng.random() < 0.02 else (["140"] if rng.random() < 0.03 else [])
    return {
        "upn": make_upn(la, serial), "uln": make_uln(rng),
        "given_name": rng.choice(GIVEN), "family_name": rng.choice(FAMILY),
        "date_of_birth": born.isoformat(), "home_postcode": "DE1 2AA", "address_lines": [f"{serial} Example Street"],
        "email": f"leaver{serial}@example.org", "phone": "07700 900" + f"{serial % 1000:03d}",
        "school_laestab": f"{la}4{serial % 1000:03d}", "nc_year": 13, "leaving_date": leaving.isoformat(),
        "destination": destination, "send": {"ehcp": ehcp, "sen_support": (not ehcp) and rng.random() < 0.1},
        "characteristics": characteristics,
        "consent": {"share_with_ncs": rng.random() < 0.7, "objects_to_sharing": False},
    }


def cohort(size: int, seed: int = 2026, leaving: date | None = None) -> list[dict]:
    """`size` leavers over LAs weighted by their 16-17 cohort (LAs without figures get none)."""
    rng = random.Random(seed)
    las = [la for la in local_authorities().values() if la.cohort_16_17]
    weights = [la.cohort_16_17 for la in las]
    leaving = leaving or date.today() - timedelta(days=7)
    return [leaver(rng, i + 1, rng.choices(las, weights)[0].dfe_code, leaving) for i in range(size)]

