"""One person, many reports (docs/domain-rules.md 5.8): UPN, then ULN, then exact normalised family name + DOB +
postcode. Anything weaker goes to the staff review queue; nothing weaker is ever merged automatically."""
from __future__ import annotations

from dataclasses import dataclass, field
from uuid import uuid4

import asyncpg

from schemas.events import LeaverRegistered
from services.la_tracker import domain, store


@dataclass
class Match:
    person_key: str                  # the young person's canonical key in la_tracker
    matched_by: str                  # upn | uln | name_dob_postcode | new
    review: list[tuple[str, str]] = field(default_factory=list)  # (candidate key, reason)


async def find(conn: asyncpg.Connection, ev: LeaverRegistered, la: str) -> Match:
    """`la`: the report's responsible LA. Weak matches are looked for among that LA's young people only:
    the same family name and date of birth elsewhere in England is a namesake, not work for this LA."""
    ident = domain.identity(ev.given_name, ev.family_name, ev.date_of_birth, ev.home_postcode)
    if (found := await store.find_person(conn, ev.person_key, ev.uln, ident["match_key"])) is not None:
        return Match(found["person_key"], found["matched_by"])
    weak = await store.weak_matches(conn, dob=ident["dob"], family_norm=ident["family_norm"],
                                    given_norm=ident["given_norm"], postcode=ident["postcode"], exclude=ev.person_key,
                                    la=la)
    return Match(ev.person_key, "new", [(r["person_key"], r["reason"]) for r in weak])


async def record(conn: asyncpg.Connection, ev: LeaverRegistered, match: Match) -> None:
    """Remember how this report's key maps to the person, and queue weak matches for staff."""
    if match.person_key != ev.person_key:
        await store.add_alias(conn, ev.person_key, match.person_key, match.matched_by)
    for candidate, reason in match.review:
        await store.add_review(conn, uuid4(), match.person_key, candidate, reason)


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
