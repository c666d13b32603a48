"""la_tracker's SQL (asyncpg)."""
from __future__ import annotations

from uuid import UUID

import asyncpg

from services.la_tracker.domain import Policy

CASE_COLUMNS = ("case_id, person_key, leaver_id, responsible_la, status, reason, priority, activity_code,"
                " referral_id, referral_status, referral_due_on, due_on, la_review, opened_at, updated_at,"
                " handoff, assigned_to, assigned_name, last_contact_at, returned_at, ncs_outcome_code")


async def policy_for(conn: asyncpg.Connection, la: str) -> Policy:
    row = await conn.fetchrow(
        "select referral_delay_days, confirmation_due_days, consent_required, contact_attempts, contact_min_days"
        " from la_policies where la = $1", la)
    return Policy(**dict(row)) if row else Policy()


async def upsert_young_person(conn: asyncpg.Connection, *, person_key: str, leaver_id: UUID | None,
                              responsible_la: str, la_source: str, details: dict, facts: dict, upn: str,
                              uln: str | None, match_key: str, activity_code: str | None, activity_status: str | None,
                              activity_ascertained, identity: dict) -> asyncpg.Record:
    """The latest report wins: details, facts and activity are replaced by what the school sent last."""
    return await conn.fetchrow(
        "insert into young_people (person_key, leaver_id, responsible_la, la_source, details, facts, upn, uln,"
        " match_key, activity_code, activity_status, activity_ascertained, family_norm, given_norm, dob, postcode)"
        " values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        " on conflict (person_key) do update set family_norm = excluded.family_norm, given_norm = excluded.given_norm,"
        " dob = excluded.dob, postcode = excluded.postcode,"
        " leaver_id = excluded.leaver_id, responsible_la = excluded.responsible_la, la_source = excluded.la_source,"
        " details = excluded.details, facts = excluded.facts, uln = coalesce(excluded.uln, young_people.uln),"
        " match_key = excluded.match_key, activity_code = excluded.activity_code,"
        " activity_status = excluded.activity_status, activity_ascertained = excluded.activity_ascertained,"
        " updated_at = now() returning *",
        person_key, leaver_id, responsible_la, la_source, details, facts, upn, uln, match_key, activity_code,
        activity_status, activity_ascertained, identity["family_norm"], identity["given_norm"], identity["dob"],
        identity["postcode"],
    )


async def get_young_person(conn, person_key: str, *, for_update: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "select * from young_people where person_key = $1" + (" for update" if for_update else ""), person_key)


async def set_activity(conn: asyncpg.Connection, person_key: str, code: str | None, status: str | None,
                       ascertained=None, start=None, review=None) -> None:
    await conn.execute(
        "update young_people set activity_code = $2, activity_status = $3, activity_ascertained = $4,"
        " activity_start = $5, activity_review = $6, updated_at = now() where person_key = $1",
        person_key, code, status, ascertained, start, review)


async def case_of_person(conn, person_key: str, la: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"select {CASE_COLUMNS} from cases where person_key = $1 and responsible_la = $2 for update", person_key, la)


async def get_case(conn, case_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"select {CASE_COLUMNS} from cases where case_id = $1" + (" for update" if for_update else ""), case_id)


async def insert_case(conn: asyncpg.Connection, **values) -> None:
    cols = ", ".join(values)
    params = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    await conn.execute(f"insert into cases ({cols}) values ({params})", *values.values())


async def update_case(conn: asyncpg.Connection, case_id: UUID, **changes) -> None:
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(changes, start=2))
    await conn.execute(f"update cases set {sets}, updated_at = now() where case_id = $1", case_id, *changes.values())


async def add_timeline(conn: asyncpg.Connection, case_id: UUID, kind: str, actor: str, detail: dict) -> None:
    await conn.execute("insert into case_timeline (case_id, kind, actor, detail) values ($1, $2, $3, $4)",
                       case_id, kind, actor, detail)


async def timeline(conn, case_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch("select at, kind, actor, detail from case_timeline where case_id = $1 order by id", case_id)


async def person_by_alias(conn, alias_key: str) -> str | None:
    return await conn.fetchval("select person_key from person_aliases where alias_key = $1", alias_key)


async def weak_matches(conn, *, dob, family_norm: str, given_norm: str, postcode: str, exclude: str, la: str
                       ) -> list[asyncpg.Record]:
    """People of the same LA resembling a new report too weakly to merge (domain.weak_match_reason's rules)."""
    return await conn.fetch(
        "select person_key, case when family_norm = $2 then 'same_family_name_and_dob'"
        " else 'same_given_name_dob_and_postcode' end as reason from young_people"
        " where dob = $1 and (family_norm = $2 or (given_norm = $3 and postcode = $4))"
        " and person_key <> $5 and responsible_la = $6 and merged_into is null limit 20",
        dob, family_norm, given_norm, postcode, exclude, la)


async def add_alias(conn, alias_key: str, person_key: str, matched_by: str) -> None:
    await conn.execute("insert into person_aliases (alias_key, person_key, matched_by) values ($1, $2, $3)"
                       " on conflict (alias_key) do nothing", alias_key, person_key, matched_by)


async def add_review(conn, review_id: UUID, person_key: str, candidate_key: str, reason: str) -> None:
    await conn.execute("insert into review_queue (review_id, person_key, candidate_key, reason) values ($1, $2, $3, $4)"
                       " on conflict (person_key, candidate_key) do nothing", review_id, person_key, candidate_key, reason)


async def set_person_fields(conn, person_key: str, **changes) -> None:
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(changes, start=2))
    await conn.execute(f"update young_people set {sets}, updated_at = now() where person_key = $1",
                       person_key, *changes.values())


async def schedule(conn, kind: str, person_key: str, case_id: UUID | None, due_on) -> None:
    await conn.execute("insert into scheduled_jobs (kind, person_key, case_id, due_on) values ($1, $2, $3, $4)"
                       " on conflict (kind, person_key, due_on) do nothing", kind, person_key, case_id, due_on)


async def open_cases_of(conn, person_key: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"select {CASE_COLUMNS} from cases where person_key = $1 and status not in ('closed', 'transferred')"
        " order by opened_at for update", person_key)


async def find_person(conn, person_key: str, uln: str | None, match_key: str) -> asyncpg.Record | None:
    """The strongest match of rule 5.8 in one round trip: UPN (or an alias of it), then ULN, then
    exact normalised family name + DOB + postcode."""
    return await conn.fetchrow(
        "select person_key, matched_by from ("
        " select person_key, 'upn' as matched_by, 1 as rank from young_people where person_key = $1"
        " union all select person_key, 'upn', 2 from person_aliases where alias_key = $1"
        " union all select person_key, 'uln', 3 from young_people where $2::text is not null and uln = $2"
        "   and merged_into is null"
        " union all select person_key, 'name_dob_postcode', 4 from young_people where match_key = $3"
        "   and merged_into is null"
        ") m order by rank limit 1", person_key, uln, match_key)


async def erase_people(conn: asyncpg.Connection, keys: list[str]) -> None:
    """Delete every row holding these young people's personal data (the audit log keeps ids only)."""
    await conn.execute("delete from case_timeline where case_id in (select case_id from cases"
                       " where person_key = any($1))", keys)
    await conn.execute("delete from scheduled_jobs where person_key = any($1)", keys)
    await conn.execute("delete from case_tasks where case_id in (select case_id from cases"
                       " where person_key = any($1))", keys)
    await conn.execute("delete from review_queue where person_key = any($1) or candidate_key = any($1)", keys)
    await conn.execute("delete from cases where person_key = any($1)", keys)
    await conn.execute("delete from person_aliases where alias_key = any($1) or person_key = any($1)", keys)
    await conn.execute("update young_people set merged_into = null where merged_into = any($1)", keys)
    await conn.execute("delete from young_people where person_key = any($1)", keys)
