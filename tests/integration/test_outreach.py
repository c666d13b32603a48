"""Messages to young people on real PostgreSQL (issue 17): the first at once, reminders on the LA's
schedule, none once they answered, the case closed or the schedule ended; links stored hashed only."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

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


class Outbox:
    """A fake MessageSender that keeps what it was given."""

    def __init__(self):
        self.sent = []

    async def send(self, conn, message):
        self.sent.append(message)


@pytest.fixture
async def la_db(infra):
    name = f"t{uuid.uuid4().hex[:8]}_la_you"
    yield await _fresh(infra, name)
    await drop_database(infra.pg_server, name)


async def _not_known_person(conn) -> str:
    """A Year 13 leaver with no destination and no consent: a not_known case (rule 5.5, no_consent)."""
    body = leaver(consent={"share_with_ncs": False, "objects_to_sharing": False}, leaving_date="2026-07-17")
    report = LeaverIn.model_validate(body)
    pkey = person_key(Settings().person_key_secret.get_secret_value(), report.upn)
    await handlers.on_leaver_registered(conn, _event(report, uuid.uuid4(), pkey, 1, uuid.uuid4()), today=D)
    assert await conn.fetchval("select status from cases where person_key = $1", pkey) == "not_known"
    return pkey


async def _send(conn, day: date, sender) -> int:
    async with conn.transaction():
        return await outreach.send_due(conn, day, sender, Settings())


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
        await MailboxSender(store_you.add_dev_message).send(conn, msg)
        assert [dict(r) for r in await store_you.dev_messages(conn)][0]["link"] == "http://x/you?t=1"

    class Client:  # GOV.UK Notify's client, as far as the adapter uses it (no network here)
        calls = []

        def send_sms_notification(self, **kw):
            self.calls.append(("sms", kw))

        def send_email_notification(self, **kw):
            self.calls.append(("email", kw))
    client = Client()
    await NotifySender("key", {"sms": "tmpl-sms", "email": "tmpl-email"}, client=client).send(None, msg)
    assert client.calls == [("sms", {"phone_number": "07700900123", "template_id": "tmpl-sms",
                                     "personalisation": {"a": "b"}, "reference": "r1"})]


async def test_a_failed_send_is_tried_again_the_next_day_and_keeps_no_link(la_db):
    class Down:
        async def send(self, conn, message):
            raise ConnectionError("Notify unreachable")

    async with _conn(la_db) as conn:
        async with conn.transaction():
            pkey = await _not_known_person(conn)
        assert await _send(conn, D, Down()) == 1
        row = await conn.fetchrow("select next_due_on, messages_sent from you_outreach where person_key = $1", pkey)
        assert (row["next_due_on"], row["messages_sent"]) == (D + timedelta(days=1), 0)
        assert await conn.fetchval("select count(*) from you_links where person_key = $1", pkey) == 0
        sender = Outbox()
        assert await _send(conn, D + timedelta(days=1), sender) == 1 and len(sender.sent) == 2
