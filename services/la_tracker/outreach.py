"""Messages to young people: a link when their case opens as not known or awaiting confirmation, then
reminders on the LA's schedule (young_person.next_message_on), until they answer or the case closes.

`invite` runs in the transaction that opens the case (so a case never opens without its outreach, nor
the reverse). Each scheduler tick (`tick`) then:
1. queues the messages due (one row per channel in `you_messages`, in the transaction that advances the
   young person's schedule): rows only, no limit;
2. sends waiting messages, at most the sender's budget left in the last minute (GOV.UK Notify: 2,500 of
   its 3,000 a minute by default, shared by every worker replica; the development mailbox: no limit unless
   configured), first messages before reminders, oldest first;
3. a message Notify refuses with 429 or 5xx waits 1, 2, 4, 8... minutes (at most 15) and is tried again,
   up to ONWARD_YOU_SEND_ATTEMPTS tries; then it fails for good, on the case's timeline. The daily limit
   waits for tomorrow; a time-out (perhaps sent) is never repeated.
A fresh link per message round (the token is in the message only; the database keeps its hash).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from uuid import uuid4

import asyncpg
from prometheus_client import Counter, Gauge

from onward.la_data import local_authorities
from onward.notify import NEVER, SOON, TOMORROW, Message, MessageSender, Refused
from services.la_tracker import domain, store, store_you, young_person as yp

MESSAGES = Counter("onward_young_person_messages_total", "Messages to young people by channel and result: sent,"
                   " deferred (tried again later), failed (given up), cancelled (no longer needed)", ["channel", "result"])
WAITING = Gauge("onward_young_person_messages_waiting", "Messages to young people queued or backing off, not yet sent")
BATCH = 500
MINUTE = timedelta(seconds=60)
RESULTS = {"sent": "sent", "waiting": "deferred", "failed": "failed", "cancelled": "cancelled"}


async def invite(conn: asyncpg.Connection, case, today: date) -> None:
    """A case just opened (or reopened): ask the young person if its status is one we ask about."""
    await invite_many(conn, [(case["person_key"], case["case_id"], case["responsible_la"], case["status"])], today)


async def invite_many(conn: asyncpg.Connection, opened: list[tuple], today: date) -> None:
    """(person_key, case_id, la, status) of cases just opened, set-based (la_tracker's batch path)."""
    rows = [(k, c, la, today) for k, c, la, status in opened if status in yp.INVITED_STATUSES]
    if rows:
        await store_you.start_outreach(conn, rows)


async def tick(pool: asyncpg.Pool, sender: MessageSender, settings, today: date, now: datetime | None = None) -> None:
    """One scheduler tick: queue what is due, give up on messages left mid-call, send within the budget.
    `now` fixes the clock (tests); else each batch reads the time, so a long tick's budget stays a rolling minute."""
    clock = (lambda: now) if now else (lambda: datetime.now(timezone.utc))
    while True:
        async with pool.acquire() as conn, conn.transaction():
            if await queue_due(conn, today, clock()) < BATCH:
                break
    async with pool.acquire() as conn:
        async with conn.transaction():
            for row in await store_you.give_up_sending(conn, clock() - 10 * MINUTE):
                await _failed(conn, row["case_id"], row["channel"], "outcome_unknown")
        while await send_batch(conn, sender, settings, clock()):  # until the budget is spent or nothing waits
            pass
        WAITING.set(await store_you.waiting_messages(conn))


async def queue_due(conn: asyncpg.Connection, today: date, now: datetime, limit: int = BATCH) -> int:
    """Queue the messages due on or before `today` (call inside a transaction), one per channel the young
    person has, and set the next one's date; return how many people were due. Set-based: one read of the
    LAs' schedules, one update of the people's outreach rows, one insert of the messages."""
    due = await store_you.due_outreach(conn, today, limit)
    schedules = await store_you.schedules_of(conn, {row["responsible_la"] for row in due})
    changes, queued = [], []
    for row in due:
        change, messages = _next_round(row, schedules[row["responsible_la"]])
        changes.append(change)
        queued += messages
    await store_you.set_outreach_many(conn, changes)
    await store_you.queue_messages(conn, queued, now)
    return len(due)


def _next_round(row, schedule: yp.ReminderSchedule) -> tuple[tuple, list[tuple]]:
    """(person_key, messages_sent, next_due_on, stopped) for the person's outreach row, and the messages to
    queue. `messages_sent` counts the rounds queued: the first message is round 0, reminders 1, 2, ..."""
    key = row["person_key"]
    if row["status"] not in domain.OPEN_STATUSES:
        return (key, None, None, "case_closed"), []
    channels = [c for c, field in (("sms", "phone"), ("email", "email")) if row[field]]
    if not channels:
        return (key, None, None, "no_contact_details"), []
    if yp.next_message_on(schedule, row["started_on"], row["messages_sent"]) is None:
        return (key, None, None, "schedule_ended"), []
    nxt = yp.next_message_on(schedule, row["started_on"], row["messages_sent"] + 1)
    return ((key, row["messages_sent"] + 1, nxt, None if nxt else "schedule_ended"),
            [(uuid4(), key, row["case_id"], row["messages_sent"], c) for c in channels])


async def send_batch(conn: asyncpg.Connection, sender: MessageSender, settings, now: datetime,
                     limit: int = BATCH) -> int:
    """Send up to `limit` waiting messages within the sender's budget; return how many were taken. The claim
    ('sending', one more attempt) commits before Notify is called, so a message is never taken twice; the
    development mailbox's send is a row, so its claim, send and record are one transaction."""
    async with conn.transaction():
        if sender.per_minute is not None:
            await store_you.lock_sending(conn)
            limit = min(limit, sender.per_minute - await store_you.tried_since(conn, now - MINUTE))
            if limit <= 0:
                return 0
        claimed = await store_you.claim_messages(conn, now, limit)
        ready, settled = await _prepare(conn, claimed, now, settings)
        if sender.in_transaction:
            await _settle(conn, now, claimed, settled + await _send(conn, sender, ready, now, settings))
            return len(claimed)
        await _settle(conn, now, claimed, settled)
    results = await _send(conn, sender, ready, now, settings)  # Notify: no transaction open during the calls
    async with conn.transaction():
        await _settle(conn, now, claimed, results)
    return len(claimed)


def _cancelled(row) -> str | None:
    """Why a queued message is no longer wanted: the case closed or changed, they answered, no address."""
    if row["status"] not in domain.OPEN_STATUSES or row["outreach_case"] != row["case_id"]:
        return "case_closed"
    if row["stopped"] == "answered":
        return "answered"
    return None if row["address"] else "no_contact_details"


async def _prepare(conn, claimed, now: datetime, settings) -> tuple[list, list]:
    """The messages to send (one new link per young person and round) and the cancelled ones."""
    ready, cancelled, links = [], [], {}
    for row in claimed:
        if reason := _cancelled(row):
            cancelled.append((row["message_id"], "cancelled", None, reason))
            continue
        if (row["person_key"], row["round"]) not in links:
            links[row["person_key"], row["round"]] = (uuid4(), yp.new_token(), row)
        ready.append((row, _message(row, links[row["person_key"], row["round"]][1], settings)))
    expires = datetime.combine(now.date() + timedelta(days=settings.you_link_days), time(23, 59), timezone.utc)
    await store_you.add_links(conn, [(link_id, yp.token_hash(link_key(settings), token), row["person_key"],
                                      row["case_id"], expires) for link_id, token, row in links.values()])
    return ready, cancelled


def _message(row, token: str, settings) -> Message:
    link = f"{settings.public_url.rstrip('/')}/you?t={token}"
    la = local_authorities().get(row["responsible_la"])
    la_name = la.name if la else "your local council"
    first, reminder = yp.first_name(row["given_name"]), row["round"] > 0
    return Message(to=row["address"], channel=row["channel"], link=link, reference=str(row["message_id"]),
                   body=yp.message_body(first, link, la_name, reminder, settings.you_link_days),
                   personalisation={"first_name": first, "link": link, "la_name": la_name,
                                    "reminder": "yes" if reminder else "no", "days": str(settings.you_link_days)})


async def _send(conn, sender: MessageSender, ready: list, now: datetime, settings) -> list[tuple]:
    if not ready:
        return []
    refusals = await sender.send_many(conn, [m for _, m in ready])
    return [(row["message_id"], *after_try(row["attempts"], refused, now, settings.you_send_attempts))
            for (row, _), refused in zip(ready, refusals)]


def after_try(attempts: int, refused: Refused | None, now: datetime, max_attempts: int) -> tuple:
    """(status, not_before, outcome) after a message's `attempts`-th try: sent; refused for now (429, 5xx)
    -> tried again in 1, 2, 4, 8 then 15 minutes until `max_attempts` tries, then failed; the daily limit
    -> tomorrow (UTC midnight, after Notify's reset); refused for good (or perhaps sent) -> failed."""
    if refused is None:
        return "sent", None, None
    if refused.reason == "paused":  # never reached Notify (it had just said "too many"): a minute, not a try
        return "waiting", now + MINUTE, "paused"
    if refused.retry == TOMORROW:
        return "waiting", datetime.combine(now.date() + timedelta(days=1), time(0, 5), timezone.utc), refused.reason
    if refused.retry == SOON and attempts < max_attempts:
        return "waiting", now + timedelta(minutes=min(2 ** (attempts - 1), 15)), refused.reason
    return "failed", None, refused.reason if refused.retry == NEVER else f"{refused.reason}_after_{attempts}_tries"


async def _settle(conn, now: datetime, claimed, results: list[tuple]) -> None:
    """Record each try; count it; put a message given up on the case's timeline (the LA can phone instead)."""
    if not results:
        return
    await store_you.settle_messages(conn, now, results)
    rows = {r["message_id"]: r for r in claimed}
    for message_id, status, _, outcome in results:
        row = rows[message_id]
        if status == "failed":
            await _failed(conn, row["case_id"], row["channel"], outcome)
        else:
            MESSAGES.labels(row["channel"], RESULTS[status]).inc()


async def _failed(conn, case_id, channel: str, outcome: str) -> None:
    """A message given up on: counted, and on the case's timeline in plain words."""
    MESSAGES.labels(channel, "failed").inc()
    await store.add_timeline(conn, case_id, "message_not_sent", "scheduler",
                             {"method": "Text message" if channel == "sms" else "Email", "why": not_sent_words(outcome)})


def not_sent_words(outcome: str) -> str:
    """Why a message was given up on, in plain words for the LA's timeline."""
    for start, words in (("rate_limited", "GOV.UK Notify was busy every time we tried"),
                         ("unreachable", "GOV.UK Notify could not be reached every time we tried"),
                         ("timeout", "GOV.UK Notify did not answer in time: the message may have arrived"),
                         ("outcome_unknown", "Onward stopped while sending: the message may have arrived"),
                         ("notify_403", "GOV.UK Notify refused Onward's API key every time we tried"),
                         ("notify_4", "GOV.UK Notify refused the phone number or email address")):
        if outcome.startswith(start):
            return words
    return "GOV.UK Notify had a problem every time we tried"


def link_key(settings) -> str:
    """The key of the tokens' hashes (derived from the deployment's person-key secret)."""
    return "you-links:" + settings.person_key_secret.get_secret_value()
