"""`make demo`: submit named example leavers, one for every route, then a synthetic Year 13 cohort, and
show where each went, within seconds. The examples are the same whatever the seed (only their names
and UPNs change), so a newcomer always sees a referral to the NCS, a SEND caseload, a pair of twins."""
from __future__ import annotations

import random
import time
from collections import defaultdict
from datetime import date, timedelta

import httpx

from onward.auth import issue_token
from onward.cohort import GIVEN, cohort, family_name, leaver, twin_of
from onward.la_data import local_authorities
from onward.settings import Settings
from schemas.nccis import is_eet

URLS = {"school_exit": "http://127.0.0.1:8001", "la_tracker": "http://127.0.0.1:8002",
        "ncs_referral": "http://127.0.0.1:8003"}
DERBY, DERBY_POSTCODE = "831", "DE1 2AA"
NO_DESTINATION = {"destination": None, "consent": {"share_with_ncs": True, "objects_to_sharing": False},
                  "send": {"ehcp": False, "sen_support": False}, "characteristics": []}
# label -> what differs from a Derby leaver with no destination who consents to an NCS referral
ROUTES = [
    ("referred to the NCS", {}),
    ("no consent", {"consent": {"share_with_ncs": False, "objects_to_sharing": False}}),
    ("EHC plan", {"send": {"ehcp": True, "sen_support": False}}),
    ("care leaver", {"characteristics": ["160"]}),
    ("confirmed destination", {"destination": {"activity_code": "310", "status": "confirmed"}}),
    ("intended destination", {"destination": {"activity_code": "230", "status": "intended"}}),
    ("lives in another LA", {"home_postcode": "NW1 2DB"}),       # Camden, school in Derby
    ("Scottish postcode", {"home_postcode": "KA1 1AA"}),         # no English LA: the school's LA, flagged
]


def examples(seed: int, first_serial: int) -> list[tuple[str, dict]]:
    """One named leaver per route, and a pair of twins (two people: two cases, two referrals)."""
    rng = random.Random(seed)
    leaving = date.today() - timedelta(days=7)
    out = []
    for serial, (label, change) in enumerate(ROUTES, start=first_serial):
        base = leaver(rng, serial, DERBY, DERBY_POSTCODE, leaving) | NO_DESTINATION
        out.append((label, base | {"given_name": rng.choice(GIVEN), "family_name": family_name(rng)} | change))
    first = leaver(rng, first_serial + len(ROUTES), DERBY, DERBY_POSTCODE, leaving) | NO_DESTINATION
    second = twin_of(rng, first, first_serial + len(ROUTES) + 1) | NO_DESTINATION
    return out + [("twin (1 of 2)", first), ("twin (2 of 2)", second)]


def _describe(leaver: dict) -> str:
    d = leaver["destination"]
    return "no destination" if d is None else f"{d['status']} {d['activity_code']}"


def _no_case_expected(leaver: dict) -> bool:
    d = leaver["destination"]
    return d is not None and d["status"] == "confirmed" and is_eet(d["activity_code"])


def submit(http: httpx.Client, urls: dict, labelled: list[tuple[str, dict]]) -> list[tuple[str, dict, str]]:
    """Each school posts its own leavers in one batch; returns (label, leaver, person key) of the accepted."""
    secret = Settings().jwt_secret.get_secret_value()
    by_school: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for label, lv in labelled:
        by_school[lv["school_laestab"]].append((label, lv))
    submitted = []
    for laestab, group in by_school.items():
        school = {"Authorization": "Bearer " + issue_token(secret, role="school", laestab=laestab)}
        r = http.post(f"{urls['school_exit']}/v1/leavers/batch", json={"leavers": [lv for _, lv in group]},
                      headers=school)
        r.raise_for_status()
        for (label, lv), res in zip(group, r.json()["results"]):
            if res["result"] == "rejected":
                print(f"rejected: {res['errors']}")
            else:
                submitted.append((label, lv, res["person_key"]))
    return submitted


def outcomes(http: httpx.Client, urls: dict, submitted: list, wait: float) -> list[tuple[str, dict, dict, dict]]:
    """(label, leaver, case or None, referral or None) once each has settled, or at the deadline."""
    admin = {"Authorization": "Bearer " + issue_token(Settings().jwt_secret.get_secret_value(), role="admin",
                                                      sub="demo-admin")}
    rows, deadline = [], time.monotonic() + wait
    for label, lv, pkey in submitted:
        while True:
            cases = http.get(f"{urls['la_tracker']}/v1/cases", params={"person_key": pkey}, headers=admin).json()
            refs = http.get(f"{urls['ncs_referral']}/v1/referrals", params={"person_key": pkey}, headers=admin).json()
            case = cases["items"][0] if cases["items"] else None
            settled = (case is None and _no_case_expected(lv)) or (
                case is not None and (case["status"] != "referred_to_ncs" or refs["items"]))
            if settled or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        rows.append((label, lv, case, refs["items"][0] if refs["items"] else None))
    return rows


def run_demo(size: int, seed: int, wait: float, urls: dict | None = None) -> int:
    urls = urls or URLS
    first_serial = seed % 9_000_000 + 1
    labelled = examples(seed, first_serial) + [("", lv) for lv in cohort(size, seed, first_serial=first_serial + 20)]
    started = time.monotonic()
    with httpx.Client(timeout=30) as http:
        submitted = submit(http, urls, labelled)
        print(f"submitted {len(submitted)} leavers: {len(ROUTES) + 2} examples, one per route, then {size} at random\n")
        rows = outcomes(http, urls, submitted, wait)
    elapsed = time.monotonic() - started
    las = local_authorities()
    print(f"{'#':>3}  {'example':<22} {'name':<22} {'school LA':<18} {'reported':<16} {'LA case':<40} {'NCS referral'}")
    for i, (label, lv, case, ref) in enumerate(rows, 1):
        case_txt = f"{case['status']} ({case['reason']}) in {las[case['responsible_la']].name}" if case else (
            "none: destination confirmed" if _no_case_expected(lv) else "NOT YET ROUTED")
        ref_txt = f"{ref['status']} in {ref['ncs_area']}" if ref else "-"
        name = f"{lv['given_name']} {lv['family_name']}"
        print(f"{i:>3}  {label:<22} {name[:22]:<22} {las[lv['school_laestab'][:3]].name[:18]:<18} "
              f"{_describe(lv):<16} {case_txt:<40} {ref_txt}")
    print(f"\nall routed in {elapsed:.1f} s")
    la, ncs = urls["la_tracker"], urls["ncs_referral"]
    print(f"pages for schools:      {urls['school_exit']}/      (development sign-in: a school's LAESTAB, e.g. 8314001)")
    print(f"pages for LA staff:     {la}/      (development sign-in: choose a role and an LA)")
    print(f"pages for NCS advisers: {ncs}/      (development sign-in: choose a role and an NCS area)")
    print(f"API docs: school_exit {urls['school_exit']}/docs  la_tracker {la}/docs  ncs_referral {ncs}/docs")
    print(f"young people's messages (development mailbox): {la}/dev/messages")
    print("tokens: .venv/bin/onward token --role la_staff --la 831   (see README)")
    return 0
