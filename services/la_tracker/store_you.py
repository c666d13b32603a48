"""SQL of the young person's pages, messages and answers (issue 17)."""
from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import asyncpg

from services.la_tracker.young_person import ReminderSchedule


async def start_outreach(conn, rows: list[tuple[str, UUID, str, date]]) -> None:
    """(person_key, case_id, la, today): ask these young people now; a reopened case starts again."""
    await conn.execute(
        "insert into you_outreach (person_key, case_id, responsible_la, started_on, next_due_on)"
        " select k, c, la, d, d from unnest($1::text[], $2::uuid[], $3::text[], $4::date[]) q(k, c, la, d)"
        " on conflict (person_key) do update set case_id = excluded.case_id, responsible_la = excluded.responsible_la,"
        " started_on = excluded.started_on, next_due_on = excluded.next_due_on, messages_sent = 0,"
        " answered_at = null, stopped = null",
        [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows])


async def due_outreach(conn, today: date, limit: int) -> list[asyncpg.Record]:
    """Messages due, with what a message needs: claimed with SKIP LOCKED (several worker replicas)."""
    return await conn.fetch(
        "select o.person_key, o.case_id, o.responsible_la, o.started_on, o.messages_sent, c.status,"
        " y.details->>'given_name' given_name, y.details->>'email' email, y.details->>'phone' phone"
        " from you_outreach o join cases c on c.case_id = o.case_id join young_people y on y.person_key = o.person_key"
        " where o.next_due_on <= $1 and o.stopped is null order by o.next_due_on limit $2 for update of o skip locked",
        today, limit)


async def set_outreach(conn, person_key: str, **changes) -> None:
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(changes, start=2))
    await conn.execute(f"update you_outreach set {sets} where person_key = $1", person_key, *changes.values())


async def mark_answered(conn, person_key: str) -> None:
    await conn.execute("update you_outreach set answered_at = now(), stopped = 'answered', next_due_on = null"
                       " where person_key = $1", person_key)


async def schedule_of(conn, la: str) -> ReminderSchedule:
    row = await conn.fetchrow("select first_reminder_days, every_days, stop_after_days from you_reminder_policies"
                              " where la = $1", la)
    return ReminderSchedule(**dict(row)) if row else ReminderSchedule()


async def set_schedule(conn, la: str, s: ReminderSchedule) -> None:
    await conn.execute(
        "insert into you_reminder_policies (la, first_reminder_days, every_days, stop_after_days) values ($1, $2, $3, $4)"
        " on conflict (la) do update set first_reminder_days = $2, every_days = $3, stop_after_days = $4,"
        " updated_at = now()", la, s.first_reminder_days, s.every_days, s.stop_after_days)


async def add_link(conn, link_id: UUID, token_hash: str, person_key: str, case_id: UUID, expires_at: datetime) -> None:
    await conn.execute("insert into you_links (link_id, token_hash, person_key, case_id, expires_at)"
                       " values ($1, $2, $3, $4, $5)", link_id, token_hash, person_key, case_id, expires_at)


# A link with what its pages show: the first name, the LA, whether the young person shares with the NCS.
_LINK = ("select l.link_id, l.person_key, l.case_id, l.changes, y.responsible_la, y.details->>'given_name' given_name,"
         " coalesce((y.facts->>'consent_to_ncs')::boolean, false) consent_to_ncs, c.referral_status"
         " from you_links l join young_people y on y.person_key = l.person_key"
         " left join cases c on c.case_id = l.case_id where ")


async def usable_link(conn, token_hash: str) -> asyncpg.Record | None:
    """A link that exists, has not expired and was not used."""
    return await conn.fetchrow(_LINK + "l.token_hash = $1 and l.redeemed_at is null and l.expires_at > now()",
                               token_hash)


async def redeem_link(conn, token_hash: str) -> asyncpg.Record | None:
    """Use a link once: only one request can redeem it (the update is the check)."""
    return await conn.fetchrow("update you_links set redeemed_at = now() where token_hash = $1"
                               " and redeemed_at is null and expires_at > now() returning link_id, expires_at",
                               token_hash)


async def visit(conn, link_id: UUID) -> asyncpg.Record | None:
    """The link of a visit under way (used already)."""
    return await conn.fetchrow(_LINK + "l.link_id = $1", link_id)


async def count_change(conn, link_id: UUID) -> int:
    return await conn.fetchval("update you_links set changes = changes + 1 where link_id = $1 returning changes",
                               link_id)


async def attempts(conn, client: str) -> int:
    """Record a token look-up by this client; return its look-ups in the last hour."""
    await conn.execute("insert into you_attempts (client) values ($1)", client)
    await conn.execute("delete from you_attempts where at < now() - interval '1 hour'")
    return await conn.fetchval("select count(*) from you_attempts where client = $1 and at > now() - interval"
                               " '1 hour'", client)


async def add_answer(conn, event_id: UUID, person_key: str, case_id: UUID | None, kind: str, answer: dict) -> None:
    await conn.execute("insert into you_answers (event_id, person_key, case_id, kind, answer) values ($1, $2, $3, $4, $5)"
                       " on conflict (event_id) do nothing", event_id, person_key, case_id, kind, answer)


async def latest_help(conn, person_key: str) -> asyncpg.Record | None:
    return await conn.fetchrow("select answer, at from you_answers where person_key = $1 and kind = 'help'"
                               " order by id desc limit 1", person_key)


async def add_dev_message(conn, to: str, channel: str, body: str, link: str) -> None:
    await conn.execute("insert into dev_messages (to_address, channel, body, link) values ($1, $2, $3, $4)",
                       to, channel, body, link)


async def dev_messages(conn, limit: int = 200) -> list[asyncpg.Record]:
    return await conn.fetch("select to_address, channel, body, link, sent_at from dev_messages"
                            " order by id desc limit $1", limit)


async def erase(conn, keys: list[str]) -> None:
    """Erasure (UK GDPR Article 17): the young person's answers, links, outreach and development
    mailbox messages go too (call before their young_people row goes: the addresses come from it)."""
    await conn.execute("delete from dev_messages where to_address in (select unnest(array[details->>'email',"
                       " details->>'phone']) from young_people where person_key = any($1))", keys)
    for table in ("you_answers", "you_links", "you_outreach"):
        await conn.execute(f"delete from {table} where person_key = any($1)", keys)
