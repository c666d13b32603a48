"""Valid synthetic leavers for the end-to-end tests (unique UPN per call)."""
import itertools
import random
from datetime import date, timedelta

from onward.cohort import make_uln, make_upn

_serial = itertools.count(random.randrange(1, 900) * 10000)


def _surname(serial: int) -> str:
    # distinct per leaver: the same family name + DOB + postcode is, rightly, the same young person
    letters = "abcdefghijklmnopqrstuvwxyz"
    tail = ""
    while serial:
        serial, i = divmod(serial, 26)
        tail += letters[i]
    return "Khan-" + tail.capitalize()


def leaver(laestab: str = "8314001", **over) -> dict:
    serial = next(_serial)
    body = {
        "upn": make_upn(laestab[:3], serial), "uln": make_uln(random.Random(serial)),
        "given_name": "Amira" + _surname(serial // 7)[5:].lower(), "family_name": _surname(serial), "date_of_birth": (date(2007, 9, 1) + timedelta(days=serial % 365)).isoformat(), "home_postcode": "DE1 2AA",
        "address_lines": ["1 Example Street"], "email": "amira@example.org", "phone": "07700900123",
        "school_laestab": laestab, "nc_year": 13, "leaving_date": (date.today() - timedelta(days=3)).isoformat(),
        "destination": None, "send": {"ehcp": False, "sen_support": False}, "characteristics": [],
        "consent": {"share_with_ncs": True, "objects_to_sharing": False},
    }
    return {**body, **over}
