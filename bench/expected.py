"""The end state a cohort must reach under the default policy (bench and chaos check against it).

Keyed by the pseudonymous person key, so that a young person reported twice by two schools (the same
UPN) counts once, and twins (their own UPNs) count as two people."""
from __future__ import annotations

from datetime import date

from onward.person_key import person_key
from onward.settings import Settings
from services.la_tracker import domain
from services.la_tracker.handlers import responsible_la, young_person


def expected(leavers: list[dict], today: date) -> tuple[set[str], set[str]]:
    """Person keys that must end with a case, and with a referral, under the default policy. A second
    report of a person carries the same details in the synthetic cohort, so the first one decides."""
    secret = Settings().person_key_secret.get_secret_value()
    cases, referrals, seen = set(), set(), set()
    for lv in leavers:
        key = person_key(secret, lv["upn"])
        if key in seen:
            continue
        seen.add(key)
        d = lv["destination"] or {}
        facts = {"nc_year": lv["nc_year"], "date_of_birth": lv["date_of_birth"], "leaving_date": lv["leaving_date"],
                 "ehcp": lv["send"]["ehcp"], "characteristics": lv["characteristics"],
                 "consent_to_ncs": lv["consent"]["share_with_ncs"], "objects_to_sharing": lv["consent"]["objects_to_sharing"]}
        decision = domain.route(young_person(facts, d.get("activity_code"), d.get("status")), domain.Policy(), today)
        responsible_la(lv["home_postcode"], lv["school_laestab"])  # warms the postcode letters the run needs
        if decision.open_case:
            cases.add(key)
        if decision.refer and decision.refer_on <= today:
            referrals.add(key)
    return cases, referrals
