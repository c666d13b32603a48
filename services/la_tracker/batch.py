"""The bulk of a cohort in a few statements: reports of young people la_tracker has never seen.

`on_leaver_registered` costs about fifteen round trips per report (matching, upsert, routing, the
case, its timeline, the outbox). In a summer burst almost every report is of a new young person, so
this set-based path handles those in one batch: one query finds which reports could match anyone under rule 5.8
(by key, alias, ULN, or given name + family name + DOB, which may also make a review item) or were
erased; the rest are routed in Python by the same `domain.route` and written with one
`insert ... select from unnest` per table. Anything else (a known person, a possible duplicate, two
reports of one person in the batch, an erased person, an unusual decision) is returned, in order, to
`on_leaver_registered`. tests/integration/test_la_batch.py checks that both paths leave the same state.
"""
from __future__ import annotations

from collections import Counter
from datetime import date
from uuid import uuid4

import asyncpg
import prometheus_client

from onward import outbox, telemetry
from onward.db import insert_rows
from onward.la_data import local_authorities
from schemas import nccis
from schemas.events import LeaverRegistered
from services.la_tracker import currency, domain, outreach
from services.la_tracker.domain import Policy
from services.la_tracker.handlers import (_reported, opened_detail, opened_event,
                                         referral_event, responsible_la, young_person)

REGISTERED = prometheus_client.Counter(
    "onward_la_new_people_batched_total",
    "Reports of new young people registered by the set-based path (the rest go one by one)")

# The weak arms are LATERAL ... LIMIT 1 so that they stay one index probe per report whatever the
# statistics say (as a semi-join, a planner without statistics could merge-join whole indexes).
_SEEN = """
select 'k' kind, person_key v from young_people where person_key = any($1)
union all select 'k', alias_key from person_aliases where alias_key = any($1)
union all select 'k', person_key from erased_people where person_key = any($1)
union all select 'u', uln from young_people where uln = any($2) and merged_into is null
union all select 'n', q.dob::text || '|' || q.family || '|' || q.given
  from unnest($3::date[], $4::text[], $5::text[]) q(dob, family, given),
  lateral (select from young_people y where y.dob = q.dob and y.family_norm = q.family and y.given_norm = q.given
           and y.merged_into is null limit 1) hit
"""


_PEOPLE = {"person_key": "text", "leaver_id": "uuid", "responsible_la": "text", "la_source": "text", "details": "jsonb",
           "facts": "jsonb", "upn": "text", "uln": "text", "match_key": "text", "activity_code": "text",
           "activity_status": "text", "activity_ascertained": "date", "family_norm": "text", "given_norm": "text",
           "dob": "date", "postcode": "text", "gender": "text"}
_CASES = {"case_id": "uuid", "person_key": "text", "leaver_id": "uuid", "responsible_la": "text", "status": "text",
          "reason": "text", "priority": "int", "activity_code": "text", "due_on": "date", "la_review": "text",
          "referral_id": "uuid", "referral_status": "text", "referral_due_on": "date"}


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
    # Every arm is a keyed lookup of at most a batch's keys, so a sequential scan is never right; but
    # without statistics (a fresh database, the first minute of a burst, before autovacuum's first
    # ANALYZE) the planner guesses 0.5% of rows per key, and for 110 keys picks sequential scans of
    # the whole young_people table: 50 ms a call instead of 2-4 ms on 40,000 people (EXPLAIN
    # ANALYZE), and half the benchmark's runs twice as slow. So seq scans are off for this query only.
    await conn.execute("set local enable_seqscan = off")
    seen = {(r["kind"], r["v"]) for r in await conn.fetch(
        _SEEN, [e.person_key for e in events], [e.uln for e in events if e.uln], [i["dob"] for i in idents],
        [i["family_norm"] for i in idents], [i["given_norm"] for i in idents])}
    await conn.execute("reset enable_seqscan")  # the server's setting again for the rest of the batch
    new = [k for k, ms in enumerate(marks) if all(in_batch[m] == 1 and m not in seen for m in ms)]
    if not new:
        return events

    people, cases, timeline, jobs, rows = [], [], [], [], []
    policies: dict[str, Policy] = {}
    slow: set[int] = set()
    for r in await conn.fetch("select la, referral_delay_days, confirmation_due_days, consent_required, contact_attempts,"
                              " contact_min_days, confirmation_due from unnest($1::text[]) x(la)"
                              " left join la_policies using (la)"
                              " left join la_nccis_settings using (la)", list({las[k][0] for k in new})):
        policies[r["la"]] = Policy(**{k: v for k, v in dict(r).items() if k != "la" and v is not None})
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

    await insert_rows(conn, "young_people", _PEOPLE, people)
    await insert_rows(conn, "cases", _CASES, cases)
    await outreach.invite_many(conn, [(c[1], c[0], c[3], c[4]) for c in cases], today)  # issue 17
    await insert_rows(conn, "case_timeline", {"case_id": "uuid", "kind": "text", "actor": "text", "detail": "jsonb"},
                      timeline)
    await insert_rows(conn, "scheduled_jobs", {"kind": "text", "person_key": "text", "case_id": "uuid", "due_on": "date"},
                      jobs, "on conflict (kind, person_key, due_on) do nothing")
    await outbox.add_rows(conn, rows)
    done = set(new) - slow
    REGISTERED.inc(len(done))
    return [e for k, e in enumerate(events) if k not in done]
