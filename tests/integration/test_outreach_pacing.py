"""Messages to young people paced to the sender's limit, on real PostgreSQL (issue 17): a tick sends at
most the budget left in the last minute, first messages before reminders; GOV.UK Notify's 429 is tried
again within minutes, not the next day. Notify is an external service: a real local HTTP server answers
as api.notifications.service.gov.uk does (its documented 429 and 500 bodies), through Notify's own client.
The clock is passed in, so nothing waits for time to pass."""
from __future__ import annotations

import asyncio
import json
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prometheus_client import REGISTRY

from onward.db import create_pool
from onward.notify import NotifySender, sender_for
from onward.settings import Settings
from services.la_tracker import outreach, store_you
from tests.e2e.conftest import eventually
from tests.integration.test_la_batch import _conn
from tests.integration.test_outreach import D, NOW, _not_known_person, la_db  # noqa: F401 - the fixture

RATE_LIMITED = {"status_code": 429, "errors": [{"error": "RateLimitError", "message":
                "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"}]}
DAILY_LIMIT = {"status_code": 429, "errors": [{"error": "TooManyRequestsError",
               "message": "Exceeded send limits (250000) for today"}]}


async def _people(conn, n: int, tag: str, start: int = 0) -> list[str]:
    async with conn.transaction():
        return [await _not_known_person(conn, email=f"{tag}{i}@example.org", phone=f"07700{900000 + start + i}")
                for i in range(n)]


async def _tick(la_db, sender, settings, now) -> None:
    pool = await create_pool(la_db, max_size=2)  # as the worker's (its JSON codecs)
    try:
        await outreach.tick(pool, sender, settings, D, now)
    finally:
        await pool.close()


async def test_a_tick_sends_at_most_the_budget_and_first_messages_before_older_reminders(la_db, monkeypatch):
    monkeypatch.setenv("ONWARD_DEV_MESSAGES_PER_MINUTE", "3")
    settings = Settings()
    sender = sender_for(settings, store_you.add_dev_messages)
    assert sender.per_minute == 3
    assert sender_for(Settings(dev_messages_per_minute=None), None).per_minute is None  # unset: no limit
    async with _conn(la_db) as conn:
        old = await _people(conn, 2, "old")
        await conn.execute("update you_outreach set messages_sent = 1")  # their reminders are due today...
        async with conn.transaction():
            assert await outreach.queue_due(conn, D, NOW) == 2        # ...and queued before the new cases open
        new = await _people(conn, 1, "new", start=10)
    await _tick(la_db, sender, settings, NOW)
    async with _conn(la_db) as conn:
        box = await conn.fetch("select to_address, body from dev_messages order by id")
        assert len(box) == 3                                          # the budget, not the 6 waiting
        firsts = [m for m in box if "reminder" not in m["body"]]
        assert sorted(m["to_address"] for m in firsts) == ["07700900010", "new0@example.org"]
        rows = await conn.fetch("select person_key, round, status from you_messages order by queued_at")
        assert {(r["person_key"], r["status"]) for r in rows if r["round"] == 0} == {(new[0], "sent")}
        assert sum(r["status"] == "sent" for r in rows if r["person_key"] in old) == 1
    await _tick(la_db, sender, settings, NOW + timedelta(seconds=59))  # the same minute: nothing left to spend
    async with _conn(la_db) as conn:
        assert await conn.fetchval("select count(*) from dev_messages") == 3
    await _tick(la_db, sender, settings, NOW + timedelta(seconds=61))  # a new minute: the other 3
    async with _conn(la_db) as conn:
        assert await conn.fetchval("select count(*) from dev_messages") == 6
        assert await conn.fetchval("select count(*) from you_messages where status = 'sent'") == 6
        assert REGISTRY.get_sample_value("onward_young_person_messages_waiting") == 0


class FakeNotify:
    """api.notifications.service.gov.uk as far as sending goes: answers each POST from a script
    (status, body), then 201; keeps each request's path and reference."""

    def __init__(self, script: list[tuple[int, dict]]):
        self.script, self.requests = list(script), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, body["reference"], self.headers["Authorization"][:7]))
                status, answer = outer.script.pop(0) if outer.script else (201, {"id": str(uuid.uuid4())})
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def notify_api():
    servers = []

    def start(script):
        servers.append(FakeNotify(script))
        return servers[-1]
    yield start
    for s in servers:
        s.server.shutdown()


def _notify_settings(monkeypatch, url: str, **env: str) -> Settings:
    key = f"onward_test-{uuid.uuid4()}-{uuid.uuid4()}"  # Notify's format: name, service id, secret
    for name, value in {"ONWARD_NOTIFY_API_KEY": key, "ONWARD_NOTIFY_SMS_TEMPLATE_ID": str(uuid.uuid4()),
                        "ONWARD_NOTIFY_EMAIL_TEMPLATE_ID": str(uuid.uuid4()), "ONWARD_NOTIFY_BASE_URL": url,
                        **env}.items():
        monkeypatch.setenv(name, value)
    return Settings()


async def test_notifys_429_is_tried_again_within_minutes_with_the_same_reference_and_sent_once(
        la_db, monkeypatch, notify_api):
    api = notify_api([(429, RATE_LIMITED)])
    settings = _notify_settings(monkeypatch, api.url)
    sender = sender_for(settings, None)
    assert isinstance(sender, NotifySender) and sender.per_minute == 2500
    sender._clients = sender._clients[:1]  # one call at a time: the 429 comes first
    async with _conn(la_db) as conn:
        pkey, = await _people(conn, 1, "rl")
    await _tick(la_db, sender, settings, NOW)
    async with _conn(la_db) as conn:
        rows = await conn.fetch("select status, attempts, not_before, outcome from you_messages where person_key = $1",
                                pkey)
        assert {(r["status"], r["attempts"], r["outcome"]) for r in rows} == {
            ("waiting", 1, "rate_limited"), ("waiting", 0, "paused")}  # the other was not sent: not a try
        assert {r["not_before"] for r in rows} == {NOW + timedelta(minutes=1)}  # minutes, not tomorrow
    assert len(api.requests) == 1  # after "too many", the rest of the batch did not ask again
    await _tick(la_db, sender, settings, NOW + timedelta(minutes=1))
    async with _conn(la_db) as conn:
        rows = await conn.fetch("select message_id, status, attempts from you_messages where person_key = $1", pkey)
    assert {(r["status"], r["attempts"]) for r in rows} == {("sent", 2), ("sent", 1)}
    assert {path for path, _, _ in api.requests[1:]} == {"/v2/notifications/sms", "/v2/notifications/email"}
    assert {ref for _, ref, _ in api.requests[1:]} == {str(r["message_id"]) for r in rows}  # each once, its own id
    assert {auth for _, _, auth in api.requests} == {"Bearer "}
    await _tick(la_db, sender, settings, NOW + timedelta(hours=1))
    assert len(api.requests) == 3  # nothing sent twice


async def test_notifys_daily_limit_waits_for_tomorrow_and_5xx_fails_for_good_after_the_last_try(
        la_db, monkeypatch, notify_api):
    api = notify_api([(429, DAILY_LIMIT)] + [(500, {"status_code": 500, "errors": [
        {"error": "Exception", "message": "Internal server error"}]})] * 4)
    settings = _notify_settings(monkeypatch, api.url, ONWARD_YOU_SEND_ATTEMPTS="2")
    sender = sender_for(settings, None)
    sender._clients = sender._clients[:1]  # one call at a time: the script's order is the calls' order
    async with _conn(la_db) as conn:
        pkey, = await _people(conn, 1, "dl")
        await conn.execute("update young_people set details = details - 'phone' where person_key = $1", pkey)
    await _tick(la_db, sender, settings, NOW)
    async with _conn(la_db) as conn:
        row = await conn.fetchrow("select status, attempts, not_before, outcome from you_messages")
    assert (row["status"], row["attempts"], row["outcome"]) == ("waiting", 0, "daily_limit")
    assert row["not_before"].date() == D + timedelta(days=1)
    tomorrow = row["not_before"]
    await _tick(la_db, sender, settings, tomorrow)
    await _tick(la_db, sender, settings, tomorrow + timedelta(minutes=1))
    async with _conn(la_db) as conn:
        row = await conn.fetchrow("select status, attempts, outcome from you_messages")
        assert (row["status"], row["attempts"], row["outcome"]) == ("failed", 2, "notify_500_after_2_tries")
        kinds = await conn.fetch("select kind from case_timeline where kind = 'message_not_sent'")
        assert len(kinds) == 1
    assert len(api.requests) == 3


async def test_messages_are_kept_90_days_after_sent_or_given_up_and_go_with_the_young_person(la_db):
    from onward.retention import purge
    from services.la_tracker.retention import RULES

    async with _conn(la_db) as conn:
        pkey, other = await _people(conn, 2, "ret")
        await conn.execute("insert into you_messages (message_id, person_key, case_id, round, channel, not_before,"
                           " status, last_attempt_at) select gen_random_uuid(), $1, gen_random_uuid(), 0, 'sms', $2::timestamptz, s,"
                           " $2::timestamptz - make_interval(days => d) from (values ('sent', 91), ('failed', 91), ('sent', 89),"
                           " ('waiting', 200)) v(s, d)", pkey, NOW)
        await purge(conn, RULES, NOW)
        left = await conn.fetch("select status from you_messages where person_key = $1 order by status", pkey)
        assert [r["status"] for r in left] == ["sent", "waiting"]
        await conn.execute("update you_messages set person_key = $1 where status = 'sent'", other)
        await store_you.erase(conn, [pkey])
        assert await conn.fetchval("select count(*) from you_messages where person_key = $1", pkey) == 0
        assert await conn.fetchval("select count(*) from you_messages where person_key = $1", other) == 1


async def test_a_message_no_longer_wanted_is_cancelled_and_does_not_use_the_budget(la_db, monkeypatch):
    monkeypatch.setenv("ONWARD_DEV_MESSAGES_PER_MINUTE", "2")
    settings = Settings()
    sender = sender_for(settings, store_you.add_dev_messages)
    async with _conn(la_db) as conn:
        closed, = await _people(conn, 1, "closed")
        async with conn.transaction():
            await outreach.queue_due(conn, D, NOW)
        await conn.execute("update cases set status = 'closed' where person_key = $1", closed)
        asking, = await _people(conn, 1, "asking", start=20)
    await _tick(la_db, sender, settings, NOW)  # the closed case's 2 are cancelled; the budget goes to the other's 2
    async with _conn(la_db) as conn:
        rows = await conn.fetch("select person_key, status, attempts, outcome from you_messages")
        assert {(r["person_key"], r["status"], r["attempts"], r["outcome"]) for r in rows} == {
            (closed, "cancelled", 0, "case_closed"), (asking, "sent", 1, None)}
        assert sorted(r["to_address"] for r in await conn.fetch("select to_address from dev_messages")) == [
            "07700900020", "asking0@example.org"]


class Overlapping:
    """The development sender, holding the first replica's send until the second replica has either
    reached its own send or is waiting for the first (so the two ticks truly overlap)."""

    in_transaction = True

    def __init__(self, inner, la_db: str):
        self.inner, self.la_db, self.per_minute, self.arrived = inner, la_db, inner.per_minute, 0

    async def send_many(self, conn, messages):
        self.arrived += 1
        if self.arrived == 1:
            async with _conn(self.la_db) as watch:
                async def other_is_here_or_waiting():
                    return self.arrived > 1 or await watch.fetchval(
                        "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                        " and wait_event = 'advisory' and datname = current_database()")
                await eventually(other_is_here_or_waiting, timeout=60)
        return await self.inner.send_many(conn, messages)


async def test_two_replicas_ticking_at_once_share_one_budget_and_never_send_a_message_twice(la_db, monkeypatch):
    monkeypatch.setenv("ONWARD_DEV_MESSAGES_PER_MINUTE", "3")
    settings = Settings()
    sender = Overlapping(sender_for(settings, store_you.add_dev_messages), la_db)
    async with _conn(la_db) as conn:
        await _people(conn, 4, "two")
        async with conn.transaction():
            await outreach.queue_due(conn, D, NOW)  # queued: the two ticks only send
    await asyncio.gather(_tick(la_db, sender, settings, NOW), _tick(la_db, sender, settings, NOW))
    async with _conn(la_db) as conn:
        assert await conn.fetchval("select count(*) from dev_messages") == 3  # one budget for both
    for minute in (1, 2):
        sender.arrived = 0
        await asyncio.gather(*(_tick(la_db, sender, settings, NOW + timedelta(minutes=minute)) for _ in (1, 2)))
    async with _conn(la_db) as conn:
        assert await conn.fetchval("select count(*) from dev_messages") == 8
        assert await conn.fetchval("select count(distinct to_address) from dev_messages") == 8  # each once


async def test_a_message_left_mid_call_by_a_stopped_worker_is_failed_not_sent_again(la_db, monkeypatch, notify_api):
    api = notify_api([])
    settings = _notify_settings(monkeypatch, api.url)
    async with _conn(la_db) as conn:
        pkey, = await _people(conn, 1, "mid")
        async with conn.transaction():
            await outreach.queue_due(conn, D, NOW)
        async with conn.transaction():
            claimed = await store_you.claim_messages(conn, NOW, 1)  # claimed, then the worker stopped
    before = {c: _count(c, "sent") for c in ("sms", "email")}
    await _tick(la_db, sender_for(settings, None), settings, NOW + timedelta(minutes=11))
    async with _conn(la_db) as conn:
        rows = {r["message_id"]: r for r in await conn.fetch("select * from you_messages where person_key = $1", pkey)}
    [mid] = [rows[r["message_id"]] for r in claimed]
    assert (mid["status"], mid["outcome"]) == ("failed", "outcome_unknown")
    async with _conn(la_db) as conn:
        why = await conn.fetchval("select detail->>'why' from case_timeline where kind = 'message_not_sent'")
    assert why == "Onward stopped while sending: the message may have arrived"
    [other] = [r for i, r in rows.items() if i != mid["message_id"]]
    assert other["status"] == "sent" and [ref for _, ref, _ in api.requests] == [str(other["message_id"])]
    assert _count(other["channel"], "sent") == before[other["channel"]] + 1  # the metric counts it


def _count(channel: str, result: str) -> float:
    return REGISTRY.get_sample_value("onward_young_person_messages_total", {"channel": channel, "result": result}) or 0
