"""The set-based path's lookups (batch.py): which of a batch's reports could be someone already held."""
from __future__ import annotations

import asyncpg

from onward.db import insert_rows

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


async def seen_marks(conn: asyncpg.Connection, keys: list[str], ulns: list[str], idents: list[dict]
                     ) -> set[tuple[str, str]]:
    """The marks (batch._marks) already held: ('k', a key, alias or erased person), ('u', a ULN),
    ('n', 'DOB|family|given' of a person not merged away)."""
    # Every arm is a keyed lookup of at most a batch's keys, so a sequential scan is never right; but
    # without statistics (a fresh database, the first minute of a burst, before autovacuum's first
    # ANALYZE) the planner guesses 0.5% of rows per key, and for 110 keys picks sequential scans of
    # the whole young_people table: 50 ms a call instead of 2-4 ms on 40,000 people (EXPLAIN
    # ANALYZE), and half the benchmark's runs twice as slow. So seq scans are off for this query only.
    await conn.execute("set local enable_seqscan = off")
    rows = await conn.fetch(_SEEN, keys, ulns, [i["dob"] for i in idents], [i["family_norm"] for i in idents],
                            [i["given_norm"] for i in idents])
    await conn.execute("reset enable_seqscan")  # the server's setting again for the rest of the batch
    return {(r["kind"], r["v"]) for r in rows}


# One row tuple per person and per case, in these columns' order (batch.register_new_people builds them).
PEOPLE = {"person_key": "text", "leaver_id": "uuid", "responsible_la": "text", "la_source": "text", "details": "jsonb",
          "facts": "jsonb", "upn": "text", "uln": "text", "match_key": "text", "activity_code": "text",
          "activity_status": "text", "activity_ascertained": "date", "family_norm": "text", "given_norm": "text",
          "dob": "date", "postcode": "text", "gender": "text"}
CASES = {"case_id": "uuid", "person_key": "text", "leaver_id": "uuid", "responsible_la": "text", "status": "text",
         "reason": "text", "priority": "int", "activity_code": "text", "due_on": "date", "la_review": "text",
         "referral_id": "uuid", "referral_status": "text", "referral_due_on": "date"}
_TIMELINE = {"case_id": "uuid", "kind": "text", "actor": "text", "detail": "jsonb"}
_JOBS = {"kind": "text", "person_key": "text", "case_id": "uuid", "due_on": "date"}


async def insert_people_and_cases(conn: asyncpg.Connection, people: list[tuple], cases: list[tuple]) -> None:
    await insert_rows(conn, "young_people", PEOPLE, people)
    await insert_rows(conn, "cases", CASES, cases)


async def insert_timeline_and_jobs(conn: asyncpg.Connection, timeline: list[tuple], jobs: list[tuple]) -> None:
    await insert_rows(conn, "case_timeline", _TIMELINE, timeline)
    await insert_rows(conn, "scheduled_jobs", _JOBS, jobs, "on conflict (kind, person_key, due_on) do nothing")
