"""Valid synthetic leavers for the end-to-end tests (unique UPN per call)."""
import itertools
import random
from datetime import date, timedelta

from onward.cohort import make_uln, make_upn

_serial = itertools.count(random.randrange(1, 900) * 10000)


def leaver(laestab: str = "8314001", **over) -> dict:
    serial = next(_serial)
    body = {
        "upn": make_upn(laestab[:3], serial), "uln": make_uln(random.Random(serial)),
        "given_name": "Amira", "family_name": "Khan", "date_of_birth": "2008-03-14", "home_postcode": "DE1 2AA",
        "address_lines": ["1 Example Street"], "email": "amira@example.org", "phone": "07700900123",
        "school_laestab": laestab, "nc_year": 13, "leaving_date": (date.today() - timedelta(days=3)).isoformat(),
        "destination": None, "send": {"ehcp": False, "sen_support": False}, "characteristics": [],
        "consent": {"share_with_ncs": True, "objects_to_sharing": False},
    }
    return {**body, **over}
