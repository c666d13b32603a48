"""Messages to young people on real PostgreSQL (issue 17): the first at once, reminders on the LA's
schedule, none once they answered, the case closed or the schedule ended; links stored hashed only."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from onward.db import drop_database
from onward.notify import MailboxSender, NotifySender
from onward.settings import Settings
from services.la_tracker import handlers, outreach, store, store_you
from services.la_tracker.young_person import ReminderSchedule
from onward.person_key import person_key
from services.school_exit.handlers import _event
from services.school_exit.wire import LeaverIn
from tests.e2e.leavers import leaver
from tests.integration.test_la_batch import _conn, _fresh

D = date(2026, 7, 25)
NOW = datetime(2026, 7, 25, 9, 0, tzinfo=timezone.utc)


class Outbox:
    """A fake MessageSender that keeps what it was given (no limit)."""

    per_minute, in_transaction = None, False

    def __init__(self):
        self.sent = []

    async def send_many(self, conn, messages):
        self.sent += messages
        return [None] * len(messages)


@pytest.fixture
async def la_db(infra):
    name = f"t{uuid.uuid4().hex[:8]}_la_you"
    yield await _fresh(infra, name)
    await drop_database(infra.pg_server, name)


async def _not_known_person(conn, **over) -> str:
    """A Year 13 leaver with no destination and no consent: a not_known case (rule 5.5, no_consent)."""
    body = leaver(consent={"share_with_ncs": False, "objects_to_sharing": False}, leaving_date="2026-07-17", **over)
    report = LeaverIn.model_validate(body)
    pkey = person_key(Settings().person_key_secret.get_secret_value(), report.upn)
    await handlers.on_leaver_registered(conn, _event(report, uuid.uuid4(), pkey, 1, uuid.uuid4()), today=D)
    assert await conn.fetchval("select status from cases where person_key = $1", pkey) == "not_known"
    return pkey


async def _send(conn, day: date, sender, now: datetime = NOW, settings=None) -> int:
    """A scheduler tick on one connection: queue what is due on `day`, send it; return the people due."""
    async with conn.transaction():
        people = await outreach.queue_due(conn, day, now)
    while await outreach.send_batch(conn, sender, settings or Settings(), now):
        pass
    return people


async def test_first_message_at_once_then_reminders_per_the_la_schedule_until_answered(la_db):
    async with _conn(la_db) as conn:
        async with conn.transaction():
            pkey = await _not_known_person(conn)
        sender = Outbox()
        assert await _send(conn, D, sender) == 1
        assert {m.channel for m in sender.sent} == {"sms", "email"} and "Hello" in sender.sent[0].body
        token = sender.sent[0].link.rsplit("t=", 1)[1]
        stored = await conn.fetch("select token_hash from you_links where person_key = $1", pkey)
        assert len(stored) == 1 and token not in stored[0]["token_hash"]
        assert await _send(conn, D + timedelta(days=6), sender) == 0  # nothing due before day 7
        assert await _send(conn, D + timedelta(days=7), sender) == 1
        assert "reminder" in sender.sent[-1].body
        await store_you.set_schedule(conn, "831", ReminderSchedule(first_reminder_days=7, every_days=10,
                                                                   stop_after_days=365))
        assert await _send(conn, D + timedelta(days=37), sender) == 1  # the third message, due on day 37
        row = await conn.fetchrow("select next_due_on, messages_sent from you_outreach where person_key = $1", pkey)
        assert row["messages_sent"] == 3 and row["next_due_on"] == D + timedelta(days=27)  # 7 + 2 x 10 from then on
        await store_you.mark_answered(conn, pkey)
        assert await _send(conn, D + timedelta(days=100), sender) == 0


async def test_no_message_once_the_case_closed_or_the_schedule_ended(la_db):
    async with _conn(la_db) as conn:
        async with conn.transaction():
            closing = await _not_known_person(conn)
        async with conn.transaction():
            case = await conn.fetchrow("select case_id from cases where person_key = $1", closing)
            await store.update_case(conn, case["case_id"], status="closed")
        sender = Outbox()
        await _send(conn, D, sender)
        assert sender.sent == []
        assert await conn.fetchval("select stopped from you_outreach where person_key = $1", closing) == "case_closed"
        await conn.execute("update cases set status = 'not_known'")
        await conn.execute("update you_outreach set stopped = null, next_due_on = $1, messages_sent = 13", D)
        await _send(conn, D + timedelta(days=400), sender)
        assert sender.sent == []
        assert await conn.fetchval("select stopped from you_outreach") == "schedule_ended"


async def test_the_development_sender_keeps_messages_and_notify_gets_templates_by_id(la_db):
    from onward.notify import Message

    msg = Message(to="07700900123", channel="sms", body="Hello", link="http://x/you?t=1", personalisation={"a": "b"},
                  reference="r1")
    async with _conn(la_db) as conn:
        assert await MailboxSender(store_you.add_dev_messages).send_many(conn, [msg]) == [None]
        assert [dict(r) for r in await store_you.dev_messages(conn)][0]["link"] == "http://x/you?t=1"

    class Client:  # GOV.UK Notify's client, as far as the adapter uses it (no network here)
        calls = []

        def send_sms_notification(self, **kw):
            self.calls.append(("sms", kw))

        def send_email_notification(self, **kw):
            self.calls.append(("email", kw))
    client = Client()
    await NotifySender("key", {"sms": "tmpl-sms", "email": "tmpl-email"}, client=client).send_many(None, [msg])
    assert client.calls == [("sms", {"phone_number": "07700900123", "template_id": "tmpl-sms",
                                     "personalisation": {"a": "b"}, "reference": "r1"})]


async def test_a_refused_send_is_tried_again_within_minutes_then_fails_on_the_timeline_and_keeps_its_link(la_db):
    from onward.notify import SOON, Refused

    class Down:
        per_minute, in_transaction = None, False

        def __init__(self):
            self.tries = 0

        async def send_many(self, conn, messages):
            self.tries += len(messages)
            return [Refused("notify_500", SOON)] * len(messages)

    settings = Settings(you_send_attempts=3)
    async with _conn(la_db) as conn:
        async with conn.transaction():
            pkey = await _not_known_person(conn)
        down = Down()
        assert await _send(conn, D, down, NOW, settings) == 1
        rows = await conn.fetch("select status, attempts, not_before, outcome from you_messages where person_key = $1",
                                pkey)
        assert [(r["status"], r["attempts"], r["outcome"]) for r in rows] == [("waiting", 1, "notify_500")] * 2
        assert all(r["not_before"] == NOW + timedelta(minutes=1) for r in rows)  # minutes, not the next day
        await _send(conn, D, down, NOW + timedelta(seconds=30), settings)
        assert down.tries == 2  # backing off: not tried before its time
        await _send(conn, D, down, NOW + timedelta(minutes=1), settings)   # second try: then wait 2 minutes
        await _send(conn, D, down, NOW + timedelta(minutes=3), settings)   # third try: given up
        await _send(conn, D, down, NOW + timedelta(hours=3), settings)
        assert down.tries == 6
        rows = await conn.fetch("select status, attempts, outcome from you_messages where person_key = $1", pkey)
        assert {(r["status"], r["attempts"], r["outcome"]) for r in rows} == {("failed", 3, "notify_500_after_3_tries")}
        timeline = await conn.fetch("select t.kind, t.detail from case_timeline t join cases c using (case_id)"
                                    " where c.person_key = $1 and t.kind = 'message_not_sent'", pkey)
        assert sorted(t["detail"]["method"] for t in timeline) == ["Email", "Text message"]
        assert await conn.fetchval("select count(*) from you_links where person_key = $1", pkey) == 3  # one a try
        assert await conn.fetchval("select messages_sent from you_outreach where person_key = $1", pkey) == 1
