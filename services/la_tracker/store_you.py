"""SQL of the young person's pages, messages and answers (issue 17); the messages' queue (you_messages)."""
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


async def queue_messages(conn, rows: list[tuple[UUID, str, UUID, int, str]], now: datetime) -> None:
    """(message_id, person_key, case_id, round, channel), in the transaction that advances the schedule."""
    if rows:
        await conn.execute(
            "insert into you_messages (message_id, person_key, case_id, round, channel, not_before)"
            " select *, $6 from unnest($1::uuid[], $2::text[], $3::uuid[], $4::int[], $5::text[])",
            *(list(col) for col in zip(*rows)), now)


SEND_LOCK = 7_362_017  # serialises replicas' budget checks (any constant)


async def lock_sending(conn) -> None:
    """Until the transaction ends, no other replica checks or spends the sender's budget."""
    await conn.execute("select pg_advisory_xact_lock($1)", SEND_LOCK)


async def tried_since(conn, since: datetime) -> int:
    """Messages tried (sent or refused) since `since`, by every replica: what the sender's limit counts."""
    return await conn.fetchval("select count(*) from you_messages where last_attempt_at > $1", since)


async def claim_messages(conn, now: datetime, limit: int) -> list[asyncpg.Record]:
    """The next waiting messages in the queue's order (first messages, then reminders; oldest first), with what
    a message needs; marked 'sending' (one more attempt) so no other replica takes them."""
    rows = await conn.fetch(
        "select m.message_id, m.person_key, m.case_id, m.round, m.channel, m.attempts + 1 attempts, c.status,"
        " o.case_id outreach_case, o.stopped, y.responsible_la, y.details->>'given_name' given_name,"
        " case m.channel when 'sms' then y.details->>'phone' else y.details->>'email' end address"
        " from you_messages m left join cases c on c.case_id = m.case_id"
        " left join you_outreach o on o.person_key = m.person_key left join young_people y on y.person_key = m.person_key"
        " where m.status = 'waiting' and m.not_before <= $1 order by m.round > 0, m.queued_at, m.message_id"
        " limit $2 for update of m skip locked", now, limit)
    await conn.execute("update you_messages set status = 'sending', attempts = attempts + 1, last_attempt_at = $2"
                       " where message_id = any($1)", [r["message_id"] for r in rows], now)
    return rows


async def settle_messages(conn, now: datetime, rows: list[tuple[UUID, str, datetime | None, str | None]]) -> None:
    """(message_id, status, not_before, outcome) after a try: sent, waiting again (a back-off), failed or
    cancelled. A message waiting until tomorrow (the daily limit) does not use up an attempt; a cancelled or
    paused one (not sent to Notify) is not a try and does not count against the budget."""
    if rows:
        await conn.execute(
            "update you_messages m set status = q.status, not_before = coalesce(q.nb, m.not_before),"
            " outcome = q.outcome, sent_at = case when q.status = 'sent' then $5::timestamptz end,"
            " attempts = m.attempts - coalesce(q.outcome in ('daily_limit', 'paused') or q.status = 'cancelled',"
            " false)::int, last_attempt_at = case when q.status = 'cancelled' or q.outcome = 'paused' then null"
            " else m.last_attempt_at end"
            " from unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[]) q(id, status, nb, outcome)"
            " where m.message_id = q.id", *(list(col) for col in zip(*rows)), now)


async def give_up_sending(conn, before: datetime) -> list[asyncpg.Record]:
    """Messages left 'sending' since `before` (the process stopped mid-call): perhaps sent, so never repeated."""
    return await conn.fetch("update you_messages set status = 'failed', outcome = 'outcome_unknown'"
                            " where status = 'sending' and last_attempt_at < $1 returning case_id, channel", before)


async def waiting_messages(conn) -> int:
    return await conn.fetchval("select count(*) from you_messages where status = 'waiting'")


async def mark_answered(conn, person_key: str) -> None:
    await conn.execute("update you_outreach set answered_at = now(), stopped = 'answered', next_due_on = null"
                       " where person_key = $1", person_key)


async def set_outreach_many(conn, changes: list[tuple]) -> None:
    """(person_key, messages_sent or None to keep it, next_due_on, stopped) for many people in one statement."""
    if changes:
        keys, sent, nxt, stopped = (list(col) for col in zip(*changes))
        await conn.execute(
            "update you_outreach o set messages_sent = coalesce(q.sent, o.messages_sent), next_due_on = q.nxt,"
            " stopped = q.stopped from unnest($1::text[], $2::int[], $3::date[], $4::text[]) q(k, sent, nxt, stopped)"
            " where o.person_key = q.k", keys, sent, nxt, stopped)


async def schedules_of(conn, las) -> dict[str, ReminderSchedule]:
    """Each LA's reminder schedule (the default for an LA that set none)."""
    rows = await conn.fetch("select la, first_reminder_days, every_days, stop_after_days from you_reminder_policies"
                            " where la = any($1::text[])", list(las))
    found = {r["la"]: ReminderSchedule(**{k: v for k, v in dict(r).items() if k != "la"}) for r in rows}
    return {la: found.get(la, ReminderSchedule()) for la in las}


async def schedule_of(conn, la: str) -> ReminderSchedule:
    row = await conn.fetchrow("select first_reminder_days, every_days, stop_after_days from you_reminder_policies"
                              " where la = $1", la)
    return ReminderSchedule(**dict(row)) if row else ReminderSchedule()


async def set_schedule(conn, la: str, s: ReminderSchedule) -> None:
    await conn.execute(
        "insert into you_reminder_policies (la, first_reminder_days, every_days, stop_after_days) values ($1, $2, $3, $4)"
        " on conflict (la) do update set first_reminder_days = $2, every_days = $3, stop_after_days = $4,"
        " updated_at = now()", la, s.first_reminder_days, s.every_days, s.stop_after_days)


async def add_links(conn, rows: list[tuple[UUID, str, str, UUID, datetime]]) -> None:
    """(link_id, token_hash, person_key, case_id, expires_at) of links about to be sent."""
    if rows:
        await conn.execute("insert into you_links (link_id, token_hash, person_key, case_id, expires_at)"
                           " select * from unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::timestamptz[])",
                           *(list(col) for col in zip(*rows)))


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


async def add_dev_messages(conn, rows: list[tuple[str, str, str, str]]) -> None:
    """(to, channel, body, link): the development mailbox's messages."""
    if rows:
        await conn.execute("insert into dev_messages (to_address, channel, body, link)"
                           " select * from unnest($1::text[], $2::text[], $3::text[], $4::text[])",
                           *(list(col) for col in zip(*rows)))


async def dev_messages(conn, limit: int = 200) -> list[asyncpg.Record]:
    return await conn.fetch("select to_address, channel, body, link, sent_at from dev_messages"
                            " order by id desc limit $1", limit)


async def erase(conn, keys: list[str]) -> None:
    """Erasure (UK GDPR Article 17): the young person's answers, links, outreach and development
    mailbox messages go too (call before their young_people row goes: the addresses come from it)."""
    await conn.execute("delete from dev_messages where to_address in (select unnest(array[details->>'email',"
                       " details->>'phone']) from young_people where person_key = any($1))", keys)
    for table in ("you_answers", "you_links", "you_outreach", "you_messages"):
        await conn.execute(f"delete from {table} where person_key = any($1)", keys)
