"""One person, many reports (docs/domain-rules.md, rule 5.8): the loading and saving around `domain.match_identity`,
which decides. Nothing weaker than the rule's three tests is ever merged automatically."""
from __future__ import annotations

from uuid import uuid4

import asyncpg

from schemas.events import LeaverRegistered
from services.la_tracker import domain, store
from services.la_tracker.domain import Identity, IdentityMatch


def reported_identity(ev: LeaverRegistered, la: str) -> Identity:
    """Who a report says the young person is; `la`: the report's responsible LA."""
    ident = domain.identity(ev.given_name, ev.family_name, ev.date_of_birth, ev.home_postcode)
    return Identity(ev.person_key, ev.upn, ev.uln, ident["given_norm"], ident["family_norm"], ident["dob"],
                    ident["postcode"], getattr(ev, "gender", None), la)


def held_identity(row) -> Identity:
    return Identity(row["person_key"], row["upn"], row["uln"], row["given_norm"], row["family_norm"], row["dob"],
                    row["postcode"], row["gender"], row["responsible_la"])


async def load(conn: asyncpg.Connection, report: Identity) -> tuple[Identity | None, list[Identity]]:
    """The person already held under the report's UPN (or an alias of it), and the others it could be."""
    key = await canonical(conn, report.person_key)
    held = await store.get_young_person(conn, key) if key else None
    others = await store.identity_candidates(conn, uln=report.uln, dob=report.dob, family_norm=report.family_norm,
                                             given_norm=report.given_norm, exclude=key or report.person_key)
    found = [held_identity(r) for r in others]
    if held is None and domain.is_temporary_upn(report.upn):
        known = {o.person_key for o in found}
        found += [p for p in await near_names(conn, report) if p.person_key not in known]
    return (held_identity(held) if held else None), found


async def near_names(conn: asyncpg.Connection, report: Identity) -> list[Identity]:
    """People in the report's LA born the same day, at its postcode or with its family name: those whose
    near-identical names make a review item (rule 5.8). Asked only for a report without a permanent UPN
    and not held under its UPN: a round trip that the bulk of a cohort (permanent UPNs) is spared."""
    rows = await store.near_name_candidates(conn, dob=report.dob, postcode=report.postcode,
                                            family_norm=report.family_norm, la=report.la, exclude=report.person_key)
    return [held_identity(r) for r in rows]


async def record(conn: asyncpg.Connection, ev: LeaverRegistered, match: IdentityMatch) -> None:
    """Remember how this report's key maps to the person, and queue look-alikes for staff."""
    if match.person_key != ev.person_key:
        await store.add_alias(conn, ev.person_key, match.person_key, match.matched_by)
    for candidate, reason in match.review:
        await store.add_review(conn, uuid4(), match.person_key, candidate, reason)


async def hold_back(conn: asyncpg.Connection, ev: LeaverRegistered, match: IdentityMatch, details: dict) -> None:
    """A report that disagrees with the person held under its UPN changes nothing: staff see what it said."""
    await store.add_review(conn, uuid4(), match.person_key, None, match.conflict, report=details)
    for case in await store.open_cases_of(conn, match.person_key):
        await store.add_timeline(conn, case["case_id"], "report_held_for_review", "matching",
                                 {"reason": match.conflict, "school_laestab": ev.school_laestab,
                                  "event_type": ev.event_type})


async def canonical(conn: asyncpg.Connection, person_key: str) -> str | None:
    """The canonical key for any report's key (the key itself, or what it was matched or merged to)."""
    row = await store.get_young_person(conn, person_key)
    if row is None:
        alias = await store.person_by_alias(conn, person_key)
        row = await store.get_young_person(conn, alias) if alias else None
    while row is not None and row["merged_into"]:
        row = await store.get_young_person(conn, row["merged_into"])
    return row["person_key"] if row else None


async def all_keys(conn: asyncpg.Connection, person_key: str) -> list[str]:
    """Every key this young person is known by: the key itself, the canonical record it is an alias
    of, the canonical record's other aliases, and records merged into any of them."""
    keys = {person_key}
    while True:
        found = await conn.fetch(
            "select person_key k from person_aliases where alias_key = any($1)"
            " union select alias_key from person_aliases where person_key = any($1)"
            " union select person_key from young_people where merged_into = any($1)"
            " union select merged_into from young_people where person_key = any($1) and merged_into is not null",
            list(keys))
        more = {r["k"] for r in found} - keys
        if not more:
            return sorted(keys)
        keys |= more
