"""la_tracker's SQL (asyncpg)."""
from __future__ import annotations

from uuid import UUID

import asyncpg

from services.la_tracker.domain import CaseStatus, Policy

CASE_COLUMNS = ("case_id, person_key, leaver_id, responsible_la, status, reason, priority, activity_code,"
                " referral_id, referral_status, referral_due_on, due_on, la_review, opened_at, updated_at,"
                " handoff, assigned_to, assigned_name, last_contact_at, returned_at, ncs_outcome_code")


_POLICY = ("select x.la, p.referral_delay_days, p.confirmation_due_days, p.consent_required, p.contact_attempts,"
           " p.contact_min_days, s.confirmation_due from unnest($1::text[]) x(la) left join la_policies p on p.la = x.la"
           " left join la_nccis_settings s on s.la = x.la")
POLICY_FIELDS = ("referral_delay_days", "confirmation_due_days", "consent_required", "contact_attempts",
                 "contact_min_days")


async def policies_for(conn: asyncpg.Connection, las: list[str]) -> dict[str, Policy]:
    """Each LA's routing policy; the national defaults where the LA has set none."""
    return {r["la"]: Policy(**{k: v for k, v in r.items() if k != "la" and v is not None})
            for r in await conn.fetch(_POLICY, las)}


async def policy_for(conn: asyncpg.Connection, la: str) -> Policy:
    return (await policies_for(conn, [la]))[la]


async def lock_policy(conn: asyncpg.Connection, la: str) -> None:
    """Serialise changes to one LA's policy until the transaction ends (two managers at once)."""
    await conn.execute("select pg_advisory_xact_lock(hashtext('la_policy:' || $1))", la)


async def save_policy(conn: asyncpg.Connection, la: str, values: dict, *, sub: str, name: str | None,
                      before: dict, role: str) -> None:
    """The LA's new numbers, and who changed them from what (policy_changes)."""
    await conn.execute(
        "insert into la_policies (la, referral_delay_days, confirmation_due_days, consent_required,"
        " contact_attempts, contact_min_days) values ($1, $2, $3, $4, $5, $6) on conflict (la) do update set"
        " referral_delay_days = $2, confirmation_due_days = $3, consent_required = $4, contact_attempts = $5,"
        " contact_min_days = $6, updated_at = now()", la, *(values[k] for k in POLICY_FIELDS))
    await conn.execute("insert into policy_changes (la, changed_by, changed_by_name, before, after, changed_by_role)"
                       " values ($1, $2, $3, $4, $5, $6)", la, sub, name, before, values, role)


async def policy_changes(conn, la: str, limit: int = 50) -> list[asyncpg.Record]:
    return await conn.fetch("select changed_by, changed_by_name, changed_by_role, before, after, at from policy_changes"
                            " where la = $1 order by id desc limit $2", la, limit)


# Cases whose young person asked for help on their own pages (issue 17), for the work list's filter.
ASKED_FOR_HELP = "exists (select from you_answers a where a.kind = 'help' and a.case_id = cases.case_id)"
_CLOSED = [CaseStatus.CLOSED, CaseStatus.TRANSFERRED]


async def status_counts(conn, la: str | None) -> dict[str, int]:
    """How many cases of each status the LA (None: every LA) holds."""
    rows = await conn.fetch("select status, count(*) from cases where ($1::text is null or responsible_la = $1)"
                            " group by status", la)
    return {r["status"]: r["count"] for r in rows}


async def reasons_in_use(conn, la: str | None) -> list[str]:
    rows = await conn.fetch("select distinct reason from cases where ($1::text is null or responsible_la = $1)"
                            " order by reason", la)
    return [r["reason"] for r in rows]


async def open_cases_assigned(conn, sub: str) -> int:
    return await conn.fetchval("select count(*) from cases where assigned_to = $1 and status <> all($2)", sub,
                               _CLOSED)


async def open_case_ages(conn) -> list[asyncpg.Record]:
    """Open cases by LA and status, with the age in seconds of each group's oldest (the queue metrics)."""
    return await conn.fetch(
        "select responsible_la, status, count(*) n, extract(epoch from now() - min(opened_at))::float8 oldest"
        " from cases where status <> all($1::text[]) group by responsible_la, status", _CLOSED)


async def upsert_young_person(conn: asyncpg.Connection, *, person_key: str, leaver_id: UUID | None,
                              responsible_la: str, la_source: str, details: dict, facts: dict, upn: str,
                              uln: str | None, match_key: str, activity_code: str | None, activity_status: str | None,
                              activity_ascertained, identity: dict) -> asyncpg.Record:
    """The latest agreeing report wins: details, facts (protection already applied) and activity are
    replaced by what was sent last; a permanent UPN replaces a temporary one, never the reverse."""
    return await conn.fetchrow(
        "insert into young_people (person_key, leaver_id, responsible_la, la_source, details, facts, upn, uln,"
        " match_key, activity_code, activity_status, activity_ascertained, family_norm, given_norm, dob, postcode,"
        " gender) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        " on conflict (person_key) do update set family_norm = excluded.family_norm, given_norm = excluded.given_norm,"
        " dob = excluded.dob, postcode = excluded.postcode, gender = coalesce(excluded.gender, young_people.gender),"
        " upn = case when young_people.upn ~ '[A-Z]$' and excluded.upn ~ '[0-9]$' then excluded.upn"
        " else young_people.upn end,"
        " leaver_id = excluded.leaver_id, responsible_la = excluded.responsible_la, la_source = excluded.la_source,"
        " details = excluded.details, facts = excluded.facts, uln = coalesce(excluded.uln, young_people.uln),"
        " match_key = excluded.match_key, activity_code = excluded.activity_code,"
        " activity_status = excluded.activity_status, activity_ascertained = excluded.activity_ascertained,"
        " updated_at = now() returning *",
        person_key, leaver_id, responsible_la, la_source, details, facts, upn, uln, match_key, activity_code,
        activity_status, activity_ascertained, identity["family_norm"], identity["given_norm"], identity["dob"],
        identity["postcode"], identity.get("gender"),
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


async def identity_candidates(conn, *, uln: str | None, dob, family_norm: str, given_norm: str, exclude: str
                              ) -> list[asyncpg.Record]:
    """People a report could be under rule 5.8 other than by its UPN: the same ULN, or the same given
    name + family name + DOB (any LA: a young person with a temporary UPN may have moved)."""
    return await conn.fetch(
        "select person_key, upn, uln, given_norm, family_norm, dob, postcode, gender, responsible_la"
        " from young_people where merged_into is null and person_key <> $5"
        " and (($1::text is not null and uln = $1) or (dob = $2 and family_norm = $3 and given_norm = $4))"
        " order by ypid limit 50", uln, dob, family_norm, given_norm, exclude)


async def near_name_candidates(conn, *, dob, postcode: str, family_norm: str, la: str, exclude: str
                               ) -> list[asyncpg.Record]:
    """People in an LA born the same day, at the postcode or with the family name: those whose near-identical
    names make a review item (rule 5.8). A bitmap probe of young_people_dob_postcode (080) and
    young_people_dob_family_given (003), not a scan."""
    return await conn.fetch(NEAR_NAMES, dob, postcode, family_norm, la, exclude)


NEAR_NAMES = (
    "select person_key, upn, uln, given_norm, family_norm, dob, postcode, gender, responsible_la from young_people"
    " where dob = $1 and (postcode = $2 or family_norm = $3) and responsible_la = $4 and merged_into is null"
    " and person_key <> $5 order by ypid limit 50")


async def add_alias(conn, alias_key: str, person_key: str, matched_by: str) -> None:
    await conn.execute("insert into person_aliases (alias_key, person_key, matched_by) values ($1, $2, $3)"
                       " on conflict (alias_key) do nothing", alias_key, person_key, matched_by)


async def add_review(conn, review_id: UUID, person_key: str, candidate_key: str | None, reason: str,
                     report: dict | None = None) -> None:
    """A possible duplicate (candidate_key), or a report held back from person_key (report, no candidate)."""
    await conn.execute("insert into review_queue (review_id, person_key, candidate_key, reason, report)"
                       " values ($1, $2, $3, $4, $5) on conflict (person_key, candidate_key) do nothing",
                       review_id, person_key, candidate_key, reason, report)


async def set_person_fields(conn, person_key: str, **changes) -> None:
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(changes, start=2))
    await conn.execute(f"update young_people set {sets}, updated_at = now() where person_key = $1",
                       person_key, *changes.values())


async def schedule(conn, kind: str, person_key: str, case_id: UUID | None, due_on) -> None:
    await conn.execute("insert into scheduled_jobs (kind, person_key, case_id, due_on) values ($1, $2, $3, $4)"
                       " on conflict (kind, person_key, due_on) do nothing", kind, person_key, case_id, due_on)


async def open_cases_of(conn, person_key: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"select {CASE_COLUMNS} from cases where person_key = $1 and status <> all($2)"
        " order by opened_at for update", person_key, _CLOSED)


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
    for table in ("activity_history", "la_history"):  # no foreign key (migration 090): deleted here
        await conn.execute(f"delete from {table} where person_key = any($1)", keys)
    await conn.execute("delete from young_people where person_key = any($1)", keys)


# Reviews: both sides with what a person needs to decide, and each side's latest case.
REVIEW_SELECT = (
    "select r.review_id, r.reason, r.status, r.created_at, r.decided_by, r.decided_at, r.person_key,"
    " r.candidate_key, r.report, r.merge_record, a.responsible_la a_la, a.details a_details,"
    " b.responsible_la b_la, b.details b_details,"
    " (select case_id from cases where person_key = r.person_key order by opened_at desc limit 1) a_case,"
    " (select case_id from cases where person_key = r.candidate_key order by opened_at desc limit 1) b_case")
REVIEW_FROM = (" from review_queue r join young_people a on a.person_key = r.person_key"
               " left join young_people b on b.person_key = r.candidate_key")
# A review belongs to the LA that holds both people (a held-back report has one person).
REVIEW_SCOPE = "(a.responsible_la = {} and (r.candidate_key is null or b.responsible_la = a.responsible_la))"


async def get_review(conn, review_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(f"{REVIEW_SELECT}{REVIEW_FROM} where r.review_id = $1"
                               + (" for update of r" if for_update else ""), review_id)


async def set_review(conn, review_id: UUID, status: str, decided_by: str, merge_record: dict | None = None) -> None:
    await conn.execute("update review_queue set status = $2, decided_by = $3, decided_at = now(),"
                       " merge_record = coalesce($4, merge_record) where review_id = $1",
                       review_id, status, decided_by, merge_record)


async def cross_la_reviews(conn, person_key: str) -> list[asyncpg.Record]:
    """Open reviews of this person whose other person is now held by another LA."""
    return await conn.fetch(
        "select r.review_id, r.person_key, r.candidate_key from review_queue r"
        " join young_people a on a.person_key = r.person_key join young_people b on b.person_key = r.candidate_key"
        " where r.status = 'open' and $1 in (r.person_key, r.candidate_key)"
        " and a.responsible_la <> b.responsible_la for update of r", person_key)


async def report_held_back(conn, person_key: str, leaver_id: UUID) -> bool:
    """True when this school report (leaver_id) was held back for disagreeing with the person."""
    return await conn.fetchval(
        "select exists (select 1 from review_queue where person_key = $1 and candidate_key is null"
        " and report->>'leaver_id' = $2 and status = 'open')", person_key, str(leaver_id))


async def remove_alias(conn, alias_key: str, person_key: str) -> None:
    await conn.execute("delete from person_aliases where alias_key = $1 and person_key = $2", alias_key, person_key)
