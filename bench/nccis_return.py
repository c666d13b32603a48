"""Bench measure: time to produce an LA's NCCIS return (and run the MIR check on it) for 10,000 young people.

Self-contained (no stack): a synthetic cohort from onward/cohort.py, moved into the statutory cohort
(Year 12 leavers of academic age 17), each with an activity history as la_tracker keeps it (the
school's destination, then for some a NEET spell recorded by staff), all the responsibility of one LA.
Times the same functions the export endpoint uses: records as at the period end, the XML, and the
check. The database reads are not included (three indexed queries).
"""
from __future__ import annotations

import random
import time
from datetime import date, timedelta

from onward.cohort import cohort
from onward.la_data import local_authorities
from services.la_tracker import nccis_export, nccis_return, nccis_rules

LA, DATABASE_ID = "873", "456"


def _rows(n: int, period_end: date, seed: int) -> tuple[list, dict, dict]:
    rng = random.Random(seed)
    start_year = period_end.year if period_end.month >= 9 else period_end.year - 1
    reported = period_end - timedelta(days=120)
    people, activities, las = [], {}, {}
    # The cohort reports about 1% of leavers twice (two schools): la_tracker holds them as one person, so
    # the return does too (a second record would share the ULN: NCCIS error 907).
    seen: set[str] = set()
    unique = [lv for lv in cohort(n + n // 20, seed=seed) if not (lv["upn"] in seen or seen.add(lv["upn"]))][:n]
    for i, lv in enumerate(unique):
        key = f"bench{i}"
        born = date(start_year - 18, 9, 1) + timedelta(days=rng.randrange(365))     # academic age 17
        details = {**{k: lv[k] for k in ("upn", "uln", "given_name", "family_name", "home_postcode",
                                         "address_lines", "school_laestab")},
                   "date_of_birth": born.isoformat(), "gender": rng.choice("FM"), "ethnicity": "WBRI"}
        facts = {"ehcp": lv["send"]["ehcp"], "sen_support": lv["send"]["sen_support"],
                 "characteristics": lv["characteristics"], "nc_year": 12}
        people.append({"person_key": key, "ypid": 1_000_000_000_000 + i, "details": details, "facts": facts,
                       "level_of_need": None, "merged_into": None, "merged_on": None})
        d = lv["destination"] or {}
        history = [{"as_of": reported, "activity_code": d.get("activity_code"), "activity_status": d.get("status"),
                    "ascertained": reported, "start_date": None, "review_date": None, "predicted_end": None}]
        if rng.random() < 0.1:   # a NEET spell recorded later by staff
            history.append({**history[0], "as_of": reported + timedelta(days=30), "activity_code": "619",
                            "activity_status": "confirmed", "ascertained": reported + timedelta(days=30)})
        activities[key] = history
        las[key] = [{"la": LA, "from_date": reported}]
    return people, activities, las


def measure(n: int = 10_000, seed: int = 2026) -> dict:
    """Seconds to build the return's records and XML, and to check it, for `n` young people; the check's counts."""
    period_end = (date.today().replace(day=1) - timedelta(days=1))
    people, activities, las = _rows(n, period_end, seed)
    started = time.perf_counter()
    records = nccis_export.assemble(people, activities, las, {}, rules={}, level_of_need=1, la=LA,
                                    database=DATABASE_ID, period_end=period_end)
    xml = nccis_return.to_xml(records, database=DATABASE_ID, la=LA, period_end=period_end, sent=date.today())
    produced = time.perf_counter() - started
    breaches = nccis_rules.check(xml, frozenset(local_authorities()))
    checked = time.perf_counter() - started - produced
    counts = nccis_rules.counts(breaches)
    return {"nccis_return_young_people": len(records), "nccis_return_seconds": round(produced, 2),
            "nccis_check_seconds": round(checked, 2), "nccis_return_mb": round(len(xml) / 1e6, 1),
            **{f"nccis_check_errors_{k if k == 'file' else 'priority_' + k}": v for k, v in counts.items()}}


if __name__ == "__main__":
    print(measure())
