"""Messages to young people: a link when their case opens as not known or awaiting confirmation, then
reminders on the LA's schedule (young_person.next_message_on), until they answer or the case closes.

`invite` runs in the transaction that opens the case (so a case never opens without its outreach, nor
the reverse); `send_due` runs in the scheduler loop: it makes a fresh link per message (the token is
in the message only; the database keeps its hash) and hands it to the MessageSender.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, timezone
from uuid import uuid4

import asyncpg

from onward.la_data import local_authorities
from onward.notify import Message, MessageSender
from services.la_tracker import domain, store_you, young_person as yp

log = logging.getLogger(__name__)


async def invite(conn: asyncpg.Connection, case, today: date) -> None:
    """A case just opened (or reopened): ask the young person if its status is one we ask about."""
    await invite_many(conn, [(case["person_key"], case["case_id"], case["responsible_la"], case["status"])], today)


async def invite_many(conn: asyncpg.Connection, opened: list[tuple], today: date) -> None:
    """(person_key, case_id, la, status) of cases just opened, set-based (la_tracker's batch path)."""
    rows = [(k, c, la, today) for k, c, la, status in opened if status in yp.INVITED_STATUSES]
    if rows:
        await store_you.start_outreach(conn, rows)


async def send_due(conn: asyncpg.Connection, today: date, sender: MessageSender, settings, limit: int = 50) -> int:
    """Send every message due on or before `today` (call inside a transaction); return how many people."""
    due = await store_you.due_outreach(conn, today, limit)
    for row in due:
        try:
            async with conn.transaction():  # a savepoint: one failed send does not undo the others
                await _send_one(conn, row, today, sender, settings)
        except Exception as exc:  # Notify refused or unreachable: try this person again tomorrow
            log.warning("message not sent, retrying tomorrow", extra={"error": type(exc).__name__})
            await store_you.set_outreach(conn, row["person_key"], next_due_on=today + timedelta(days=1))
    return len(due)


async def _send_one(conn, row, today: date, sender: MessageSender, settings) -> None:
    if row["status"] not in domain.OPEN_STATUSES:
        return await store_you.set_outreach(conn, row["person_key"], stopped="case_closed", next_due_on=None)
    channels = [(c, row[f]) for c, f in (("sms", "phone"), ("email", "email")) if row[f]]
    if not channels:
        return await store_you.set_outreach(conn, row["person_key"], stopped="no_contact_details", next_due_on=None)
    schedule = await store_you.schedule_of(conn, row["responsible_la"])
    if yp.next_message_on(schedule, row["started_on"], row["messages_sent"]) is None:
        return await store_you.set_outreach(conn, row["person_key"], stopped="schedule_ended", next_due_on=None)
    link = await _new_link(conn, row, today, settings)
    la = local_authorities().get(row["responsible_la"])
    la_name = la.name if la else "your local council"
    first = yp.first_name(row["given_name"])
    reminder = row["messages_sent"] > 0
    body = yp.message_body(first, link, la_name, reminder, settings.you_link_days)
    for channel, to in channels:
        await sender.send(conn, Message(to=to, channel=channel, body=body, link=link, reference=str(uuid4()),
                                        personalisation={"first_name": first, "link": link, "la_name": la_name,
                                                         "reminder": "yes" if reminder else "no",
                                                         "days": str(settings.you_link_days)}))
    sent = row["messages_sent"] + 1
    nxt = yp.next_message_on(schedule, row["started_on"], sent)
    await store_you.set_outreach(conn, row["person_key"], messages_sent=sent, next_due_on=nxt,
                                 stopped=None if nxt else "schedule_ended")


async def _new_link(conn, row, today: date, settings) -> str:
    token = yp.new_token()
    expires = datetime.combine(today + timedelta(days=settings.you_link_days), time(23, 59), timezone.utc)
    await store_you.add_link(conn, uuid4(), yp.token_hash(link_key(settings), token), row["person_key"],
                             row["case_id"], expires)
    return f"{settings.public_url.rstrip('/')}/you?t={token}"


def link_key(settings) -> str:
    """The key of the tokens' hashes (derived from the deployment's person-key secret)."""
    return "you-links:" + settings.person_key_secret.get_secret_value()
