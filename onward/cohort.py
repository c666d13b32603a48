"""Synthetic Year 13 leavers: valid UPNs and ULNs, real postcodes of each LA (ONS directory), spread
over LAs by their 2025 16-17 cohort sizes, with the national shares of docs/domain-rules.md section 3.

Deterministic for a seed. As in life (docs/domain-rules.md 5.8), about 1 young person in 60 is a twin: two
leavers with the same family name, DOB, postcode, address and school but their own given names, UPNs
and ULNs (two people, two journeys). About 1% of leavers are reported twice, by two schools (the
same UPN and details: one person, one journey). Otherwise no two leavers share given name, family
name and DOB, nor a ULN, so nothing else looks alike to rule 5.8.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from onward.la_data import local_authorities
from onward.postcodes import directory
from schemas.identifiers import UPN_ALPHABET as UPN_LETTERS, uln_check_digit, upn_check_letter

GIVEN = ("Amira Oliver Zara Noah Chloé Kofi Siobhán Jack Priya Mateusz Aoife Leo Fatima Harry Isla Mohammed Ava "
         "George Ellie Yusuf Maya Oscar Grace Ibrahim Lily Arthur Freya Musa Evie Theo Ruby Kai Nia Reuben Hana "
         "Callum Sofia Dylan Aisha Finley Erin Ayaan Megan Rhys Zainab Liam Jessica Tomasz Keira Daniel").split()
FAMILY = ("Khan Smith O'Neill Nowak Okafor Jones Patel Brown-Hughes Williams Ahmed Taylor Davies Evans Wilson "
          "Thomas Johnson Roberts Robinson Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris "
          "Clarke Jackson Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan "
          "Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook "
          "Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khalid Begum Hussain Ali "
          "Kowalski Mensah Adeyemi Singh Kaur Nguyen Chen Da Silva Ferreira Popescu O'Brien MacDonald Ó Súilleabháin").split()
# England's surnames are long-tailed: the hundred commonest cover about a fifth of people. So a fifth
# of family names come from the list above and the rest from some 3,000 English-style compounds,
# which keeps namesakes (same family name and birthday in one LA) about as rare as they are.
_STEMS = ("Ash Brad Cald Dun Elm Fair Green Hal Hart Kings Lang Mar New Oak Pen Red Rad Sand Stan Thorn "
          "Wal Whit Wood Ather Bar Black Brook Cart Chest Crom Dal Dray Fen Gold Hay Hol Lind Mid Nor Pem "
          "Rams Rid Rush Salt Shel Sher Stock Sut Tay Tren War Wen West Wil Win Ax Bur Coll Holt Ling").split()
_ENDS = ("ford well ton ley wood by ham field worth ridge stone brook more combe den hurst land shaw wick "
         "more gate lock mere over ing ell cott hill dale bury low son ey all").split()
RARE_FAMILY = tuple(sorted({s + e for s in _STEMS for e in _ENDS}))


def family_name(rng: random.Random) -> str:
    return rng.choice(FAMILY) if rng.random() < 0.2 else rng.choice(RARE_FAMILY)


EET_CODES = ("210", "220", "230", "240", "310", "320", "330", "340", "360", "410")
NEET_CODES = ("610", "615", "619", "620", "630", "640")
NOT_KNOWN_CODES = ("810", "820", "830")


def make_upn(la: str, serial: int) -> str:
    body = f"{la}{serial % 10000:04d}{26:02d}{serial // 10000 % 1000:03d}"
    return upn_check_letter(body) + body


def make_temporary_upn(la: str, serial: int) -> str:
    """A temporary UPN (a school's stopgap until the permanent one is known): 2 serial digits and a letter."""
    body = f"{la}{serial % 10000:04d}{26:02d}{serial // 10000 % 100:02d}{UPN_LETTERS[serial % 23]}"
    return upn_check_letter(body) + body


def make_uln(rng: random.Random) -> str:
    while True:
        first9 = f"{rng.randrange(10**8, 10**9)}"
        check = uln_check_digit(first9)
        if check is not None and check < 10:
            return first9 + str(check)


def _destination(rng: random.Random) -> dict | None:
    roll = rng.random()
    if roll < 0.051:                       # no destination captured (5.1%)
        return None
    if roll < 0.085:                       # NEET (3.4%)
        return {"activity_code": rng.choice(NEET_CODES), "status": "confirmed"}
    if roll < 0.107:                       # not known (2.2%)
        return {"activity_code": rng.choice(NOT_KNOWN_CODES), "status": "confirmed"}
    if roll < 0.40:                        # intended, awaiting confirmation
        return {"activity_code": rng.choice(EET_CODES), "status": "intended"}
    return {"activity_code": rng.choice(EET_CODES), "status": "confirmed"}


def leaver(rng: random.Random, serial: int, la: str, postcode: str, leaving: date) -> dict:
    born = date(leaving.year - 19, 9, 1) + timedelta(days=rng.randrange(365))  # Year 13: 18 on 31 August
    ehcp = rng.random() < 0.054
    roll = rng.random()
    characteristics = ["160"] if roll < 0.01 else ["110"] if roll < 0.015 else ["140"] if roll < 0.04 else []
    return {
        "upn": make_upn(la, serial), "uln": make_uln(rng),
        "given_name": rng.choice(GIVEN), "family_name": family_name(rng),
        "date_of_birth": born.isoformat(), "home_postcode": postcode, "address_lines": [f"{serial % 200 + 1} Example Road"],
        "email": f"leaver{serial}@example.org", "phone": f"07700 9{serial % 100000:05d}",
        "school_laestab": f"{la}4{serial % 1000:03d}", "nc_year": 13, "leaving_date": leaving.isoformat(),
        "destination": _destination(rng), "send": {"ehcp": ehcp, "sen_support": (not ehcp) and rng.random() < 0.12},
        "characteristics": characteristics,
        "consent": {"share_with_ncs": rng.random() < 0.7, "objects_to_sharing": rng.random() < 0.01},
    }


TWIN_PAIR_RATE = 1 / 120       # a pair per 120 leavers: 1 young person in 60 is a twin
REPORTED_TWICE_RATE = 0.01     # reported again by a second school


def twin_of(rng: random.Random, first: dict, serial: int) -> dict:
    """The other twin: same family name, DOB, postcode, address and school; their own given name,
    UPN, ULN, contacts and journey."""
    la = first["school_laestab"][:3]
    other = leaver(rng, serial, la, first["home_postcode"], date.fromisoformat(first["leaving_date"]))
    given = rng.choice([g for g in GIVEN if g != first["given_name"]])
    return other | {k: first[k] for k in ("family_name", "date_of_birth", "home_postcode", "address_lines",
                                          "school_laestab")} | {"given_name": given}


def reported_again(first: dict, serial: int) -> dict:
    """The same young person reported by a second school in the same LA (e.g. a sixth form they also
    attended): the same UPN and details, another LAESTAB."""
    return first | {"school_laestab": f"{first['school_laestab'][:3]}5{serial % 1000:03d}"}


def cohort(size: int, seed: int = 2026, leaving: date | None = None, first_serial: int = 1) -> list[dict]:
    """`size` reports over LAs weighted by their 16-17 cohort (LAs without figures get none), twins and
    second reports among them at the national rates."""
    rng = random.Random(seed)
    postcodes = directory().sample_by_la(50)
    las = [la for la in local_authorities().values() if la.cohort_16_17 and la.dfe_code in postcodes]
    weights = [la.cohort_16_17 for la in las]
    leaving = leaving or date.today() - timedelta(days=7)
    out, seen = [], set()
    serial = first_serial
    while len(out) < size:
        la = rng.choices(las, weights)[0].dfe_code
        lv = leaver(rng, serial, la, rng.choice(postcodes[la]), leaving)
        serial += 1
        group = [lv]
        roll = rng.random()
        if roll < TWIN_PAIR_RATE:
            group.append(twin_of(rng, lv, serial))
            serial += 1
        elif roll < TWIN_PAIR_RATE + REPORTED_TWICE_RATE:
            group.append(reported_again(lv, serial))
        # Distinct ULNs and names + DOB otherwise: a repeat would be, rightly, matched or reviewed.
        marks = {(m["given_name"], m["family_name"], m["date_of_birth"]) for m in group} | {m["uln"] for m in group}
        if not marks & seen:
            seen |= marks
            out.extend(group)
    return out[:size]
