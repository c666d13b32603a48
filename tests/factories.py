"""Small builders for handler-level tests: leavers (as la_tracker receives them), cases, referrals, and a
fresh database per test so that sweeps over "everything due" see only that test's rows.

Defaults describe the commonest journey: a Year 13 leaver of Derby (LA 831, East Midlands) with no
known destination and consent to share with the NCS. Every builder takes keyword overrides.
"""
from __future__ import annotations

import contextlib
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timezone

import asyncpg

from onward.cohort import make_upn
from onward.db import create_pool, drop_database, ensure_database, migrate
from onward.person_key import person_key
from onward.processes import SERVICES
from onward.settings import Settings
from schemas.events import Consent, Destination, LeaverRegistered, ReferralRequested, Send

# A date far from today's, so that nothing a running stack schedules is due at the same time.
TODAY = date(2031, 7, 25)
LEFT = date(2031, 7, 17)
BORN_YEAR_13 = date(2013, 3, 14)   # academic age 18 on the 1 September after leaving
BORN_YEAR_11 = date(2015, 3, 14)   # academic age 16
DERBY, DERBY_POSTCODE, DERBY_SCHOOL, EAST_MIDLANDS = "831", "DE1 2AA", "8314001", "East Midlands"
_SECRET = Settings().person_key_secret.get_secret_value()
_serials = itertools.count(uuid.uuid4().int % 900_000 + 10_000)


@contextlib.asynccontextmanager
async def fresh_database(infra, service: str) -> AsyncIterator[asyncpg.Pool]:
    """A new database with the service's migrations, as a pool; dropped afterwards."""
    name = f"t{uuid.uuid4().hex[:8]}_{service}"
    url = await ensure_database(infra.pg_server, name)
    await migrate(url, SERVICES[service].migrations)
    pool = await create_pool(url, 4)
    try:
        yield pool
    finally:
        await pool.close()
        await drop_database(infra.pg_server, name)


def new_upn(la: str = DERBY) -> str:
    return make_upn(la, next(_serials))


def leaver(*, upn: str | None = None, destination: tuple[str, str] | None = None, consent: bool = True,
           objects: bool = False, ehcp: bool = False, characteristics: tuple[str, ...] = (), nc_year: int = 13,
           born: date = BORN_YEAR_13, postcode: str = DERBY_POSTCODE, **fields) -> LeaverRegistered:
    """A `LeaverRegistered` event; `destination` is (activity code, "confirmed" | "intended")."""
    upn = upn or new_upn()
    return LeaverRegistered(
        producer="school_exit", correlation_id=uuid.uuid4(), person_key=person_key(_SECRET, upn),
        leaver_id=uuid.uuid4(), upn=upn, given_name=fields.pop("given_name", "Amira"),
        family_name=fields.pop("family_name", "Khan"), date_of_birth=born, home_postcode=postcode,
        address_lines=["1 Example Street"], email="amira@example.org", phone="07700900123",
        school_laestab=fields.pop("school_laestab", DERBY_SCHOOL), nc_year=nc_year, leaving_date=LEFT,
        destination=Destination(activity_code=destination[0], status=destination[1]) if destination else None,
        send=Send(ehcp=ehcp), characteristics=list(characteristics),
        consent=Consent(share_with_ncs=consent, objects_to_sharing=objects, source="school" if consent else None),
        **fields)


async def set_policy(conn, la: str = DERBY, **numbers) -> None:
    """The LA's routing numbers (`referral_delay_days`, `confirmation_due_days`, `consent_required`)."""
    cols = ", ".join(numbers)
    params = ", ".join(f"${i}" for i in range(2, len(numbers) + 2))
    sets = ", ".join(f"{k} = excluded.{k}" for k in numbers)
    await conn.execute(f"insert into la_policies (la, {cols}) values ($1, {params})"
                       f" on conflict (la) do update set {sets}", la, *numbers.values())


async def case_of(conn, ev: LeaverRegistered):
    """The young person's newest case in la_tracker (None when routing opened none)."""
    return await conn.fetchrow("select * from cases where person_key = $1 order by opened_at desc limit 1",
                               ev.person_key)


async def reported(pool: asyncpg.Pool, ev: LeaverRegistered, today: date = TODAY):
    """Run la_tracker's intake of the report in its own transaction; return the case it left."""
    from services.la_tracker import handlers

    async with pool.acquire() as conn, conn.transaction():
        await handlers.on_leaver_registered(conn, ev, today=today)
    async with pool.acquire() as conn:
        return await case_of(conn, ev)


async def outbox_events(conn, person_key_: str, event_type: str | None = None) -> list[dict]:
    """The events la_tracker (or ncs_referral) wrote for one young person, oldest first."""
    rows = await conn.fetch("select payload from outbox where key = $1 order by id", person_key_.encode())
    events = [json.loads(r["payload"]) for r in rows]
    return [e for e in events if event_type is None or e["event_type"] == event_type]


async def timeline_kinds(conn, case_id) -> list[str]:
    return [r["kind"] for r in await conn.fetch("select kind from case_timeline where case_id = $1 order by id",
                                                case_id)]


def referral_requested(*, area_la: str = DERBY, consent: bool = True, objects: bool = False,
                       recorded_at: datetime | None = None, **fields) -> ReferralRequested:
    """A `ReferralRequested` as la_tracker sends it: the handoff fields, the reason in words and the LA's
    could-not-contact numbers (its defaults: 3 attempts over at least 7 days)."""
    upn = new_upn(area_la)
    fields.setdefault("reason_text", "No known destination after leaving school")
    fields.setdefault("return_after_attempts", 3)
    fields.setdefault("return_after_days", 7)
    return ReferralRequested(
        producer="la_tracker", correlation_id=uuid.uuid4(), person_key=person_key(_SECRET, upn),
        referral_id=fields.pop("referral_id", uuid.uuid4()), case_id=uuid.uuid4(), responsible_la=area_la,
        ncs_area=fields.pop("ncs_area", EAST_MIDLANDS), reason=fields.pop("reason", "no_known_destination"),
        priority=fields.pop("priority", 3), given_name="Amira", family_name="Khan", date_of_birth=BORN_YEAR_13,
        email="amira@example.org", phone="07700900123", postcode_district="DE1",
        consent=Consent(share_with_ncs=consent, objects_to_sharing=objects, source="school" if consent else None,
                        recorded_at=recorded_at or datetime.now(timezone.utc)),
        **fields)
