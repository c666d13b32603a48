"""`make demo`: submit a synthetic Year 13 cohort and show where each leaver went, within seconds."""
from __future__ import annotations

import time
from collections import defaultdict

import httpx

from onward.auth import issue_token
from onward.cohort import cohort
from onward.la_data import local_authorities
from onward.settings import Settings
from schemas.nccis import is_eet

SCHOOL, LA, NCS = "http://127.0.0.1:8001", "http://127.0.0.1:8002", "http://127.0.0.1:8003"


def _describe(leaver: dict) -> str:
    d = leaver["destination"]
    if d is None:
        return "no destination"
    return f"{d['status']} {d['activity_code']}"


def _no_case_expected(leaver: dict) -> bool:
    d = leaver["destination"]
    return d is not None and d["status"] == "confirmed" and is_eet(d["activity_code"])


def run_demo(size: int, seed: int, wait: float) -> int:
    secret = Settings().jwt_secret.get_secret_value()
    admin = {"Authorization": "Bearer " + issue_token(secret, role="admin", sub="demo-admin")}
    leavers = cohort(size, seed, first_serial=seed % 9_000_000 + 1)
    by_school: dict[str, list[dict]] = defaultdict(list)
    for lv in leavers:
        by_school[lv["school_laestab"]].append(lv)
    submitted: list[tuple[dict, str]] = []
    started = time.monotonic()
    with httpx.Client(timeout=30) as http:
        for laestab, group in by_school.items():
            school = {"Authorization": "Bearer " + issue_token(secret, role="school", laestab=laestab)}
            r = http.post(f"{SCHOOL}/v1/leavers/batch", json={"leavers": group}, headers=school)
            r.raise_for_status()
            for lv, res in zip(group, r.json()["results"]):
                if res["result"] == "rejected":
                    print(f"rejected: {res['errors']}")
                else:
                    submitted.append((lv, res["person_key"]))
        print(f"submitted {len(submitted)} leavers from {len(by_school)} schools\n")
        rows = []
        deadline = time.monotonic() + wait
        for lv, pkey in submitted:
            while True:
                cases = http.get(f"{LA}/v1/cases", params={"person_key": pkey}, headers=admin).json()["items"]
                refs = http.get(f"{NCS}/v1/referrals", params={"person_key": pkey}, headers=admin).json()["items"]
                case = cases[0] if cases else None
                settled = (case is None and _no_case_expected(lv)) or (
                    case is not None and (case["status"] != "referred_to_ncs" or refs))
                if settled or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            rows.append((lv, case, refs[0] if refs else None))
    elapsed = time.monotonic() - started
    las = local_authorities()
    print(f"{'#':>3}  {'school LA':<24} {'reported':<16} {'LA case':<34} {'NCS referral'}")
    for i, (lv, case, ref) in enumerate(rows, 1):
        la = las[lv["school_laestab"][:3]].name
        case_txt = f"{case['status']} ({case['reason']})" if case else (
            "none: destination confirmed" if _no_case_expected(lv) else "NOT YET ROUTED")
        ref_txt = f"{ref['status']} in {ref['ncs_area']}" if ref else "-"
        print(f"{i:>3}  {la:<24} {_describe(lv):<16} {case_txt:<34} {ref_txt}")
    print(f"\nall routed in {elapsed:.1f} s")
    print(f"pages for LA staff:     {LA}/      (development sign-in: choose a role and an LA)")
    print(f"pages for NCS advisers: {NCS}/      (development sign-in: choose a role and an NCS area)")
    print(f"API docs: school_exit {SCHOOL}/docs  la_tracker {LA}/docs  ncs_referral {NCS}/docs")
    print("tokens: .venv/bin/onward token --role la_staff --la 831   (see README)")
    return 0
