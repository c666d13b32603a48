"""The bulk of a cohort in a few statements: reports of young people la_tracker has never seen.

`on_leaver_registered` costs about fifteen round trips per report (matching, upsert, routing, the
case, its timeline, the outbox). In a summer burst almost every report is of a new young person, so
this set-based path handles those in one batch: one query finds which reports could match anyone under rule 5.8
(by key, alias, ULN, or given name + family name + DOB, which may also make a review item) or were
erased; the rest are routed in Python by the same `domain.route` and written with one
`insert ... select from unnest` per table. Anything else (a known person, a possible duplicate, two
reports of one person in the batch, an erased person, a report without a permanent UPN, an unusual
decision) is returned, in order, to `on_leaver_registered`. tests/integration/test_la_batch.py checks
that both paths leave the same state.
"""
from __future__ import annotations

from collections import Counter
from datetime import date
from uuid import uuid4

import asyncpg
import prometheus_client

from onward import outbox, telemetry
from onward.la_data import local_authorities
from schemas import nccis
from schemas.events import LeaverRegistered
from services.la_tracker import currency, domain, outreach, store, store_batch
from services.la_tracker.domain import Policy
from services.la_tracker.handlers import (_reported, opened_detail, opened_event,
                                         referral_event, responsible_la, young_person)

REGISTERED = prometheus_client.Counter(
    "onward_la_new_people_batched_total",
    "Reports of new young people registered by the set-based path (the rest go one by one)")



def _marks(ev: LeaverRegistered, ident: dict) -> list[tuple[str, str]]:
    """Everything by which rule 5.8 could tie this report to another (or make it a review item): its
    UPN's key, its ULN, its given name + family name + DOB. Twins share none of these."""
    marks = [("k", ev.person_key), ("n", f"{ident['dob'].isoformat()}|{ident['family_norm']}|{ident['given_norm']}")]
    return marks + ([("u", ev.uln)] if ev.uln else [])


async def register_new_people(conn: asyncpg.Connection, events: list[LeaverRegistered], *,
                              today: date) -> list[LeaverRegistered]:
    """Register the reports of new young people set-based; return the others for the per-report path."""
    if len(events) < 2:
        return events
    idents = [domain.identity(e.given_name, e.family_name, e.date_of_birth, e.home_postcode) for e in events]
    las = [responsible_la(e.home_postcode, e.school_laestab) for e in events]
    marks = [_marks(e, i) for e, i in zip(events, idents)]
    in_batch = Counter(m for ms in marks for m in ms)
    seen = await store_batch.seen_marks(conn, [e.person_key for e in events], [e.uln for e in events if e.uln],
                                        idents)
    # A report without a permanent UPN may be a near-identical name of someone held (a review item, rule
    # 5.8): rare, so it always takes the per-report path, which looks for them (matching.near_names).
    new = [k for k, ms in enumerate(marks) if all(in_batch[m] == 1 and m not in seen for m in ms)
           and not domain.is_temporary_upn(events[k].upn)]
    if not new:
        return events

    people, cases, timeline, jobs, rows = [], [], [], [], []
    slow: set[int] = set()
    policies = await store.policies_for(conn, list({las[k][0] for k in new}))
    for k in new:
        ev, ident = events[k], idents[k]
        (la, la_review), (code, state, facts, details) = las[k], _reported(ev)
        decision = domain.route(young_person(facts, code, state), policies.get(la, Policy()), today)
        refer_now = decision.refer and decision.refer_on is not None and decision.refer_on <= today
        if refer_now and decision.status != domain.REFERRED_TO_NCS:
            slow.add(k)  # a referral that also changes the status: rare; the per-report path does it
            continue
        person = {"leaver_id": ev.leaver_id, "details": details, "facts": facts, "activity_code": code}
        people.append((ev.person_key, ev.leaver_id, la, "school" if la_review else "postcode", details, facts, ev.upn,
                       ev.uln, ident["match_key"], code, state, today if code else None, ident["family_norm"],
                       ident["given_norm"], ident["dob"], ident["postcode"], getattr(ev, "gender", None)))
        if not decision.open_case:
            if code and state == "confirmed" and nccis.is_eet(code):
                jobs.append(("currency_lapse", ev.person_key, None,
                             currency.lapse_of(code, verified=today)))
            continue
        case_id = uuid4()
        priority = domain.priority(young_person(facts, code, state))
        referral_id = uuid4() if refer_now else None
        cases.append((case_id, ev.person_key, ev.leaver_id, la, decision.status, decision.reason, priority, code,
                      decision.due_on, la_review, referral_id, domain.ReferralStatus.REQUESTED if refer_now else None,
                      decision.refer_on if decision.refer and not refer_now else None))
        timeline.append((case_id, "case_opened", "routing", opened_detail(ev, decision, la_review)))
        caused = [opened_event(ev, ev.person_key, case_id, person, la, decision)]
        if decision.due_on:
            jobs.append(("confirmation_due", ev.person_key, case_id, decision.due_on))
        if refer_now:
            case = {"person_key": ev.person_key, "responsible_la": la, "reason": decision.reason, "priority": priority}
            caused.append(referral_event(ev, case_id, case, person, referral_id, policy=policies.get(la, Policy())))
            timeline.append((case_id, "referral_requested", "routing",
                             {"referral_id": str(referral_id), "ncs_area": local_authorities()[la].region}))
        elif decision.refer:
            jobs.append(("refer", ev.person_key, case_id, decision.refer_on))
        with telemetry.event_context(ev):  # the events it causes carry the report's trace on
            rows += outbox.rows(*caused)

    await store_batch.insert_people_and_cases(conn, people, cases)
    await outreach.invite_many(conn, [(c[1], c[0], c[3], c[4]) for c in cases], today)  # issue 17
    await store_batch.insert_timeline_and_jobs(conn, timeline, jobs)
    await outbox.add_rows(conn, rows)
    done = set(new) - slow
    REGISTERED.inc(len(done))
    return [e for k, e in enumerate(events) if k not in done]
