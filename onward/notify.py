"""Sending a young person a text message or an email: a small port with two implementations.

- `NotifySender`: GOV.UK Notify through its maintained client (`notifications-python-client`). The
  words live in Notify templates, chosen by id (ONWARD_NOTIFY_SMS_TEMPLATE_ID,
  ONWARD_NOTIFY_EMAIL_TEMPLATE_ID); Onward sends the personalisation `first_name`, `link`, `la_name`, `days`
  and `reminder` ("yes"/"no"). The client is synchronous (requests) and not thread-safe, so each of a few
  threads has its own.
- `MailboxSender`: development and tests. The message is kept in the service's database (in the caller's
  transaction, so the send and its record are one) and shown at `/dev/messages` (refused in production).

Each sender declares its limit, `per_minute` (None: none). GOV.UK Notify allows 3,000 messages a minute
per API key type, counted on a rolling basis; above it a request gets `429` with
`{"errors": [{"error": "RateLimitError", "message": "Exceeded rate limit for key type LIVE of 3000 requests
per 60 seconds"}]}`; a `429` `TooManyRequestsError` ("Exceeded send limits (...) for today") is the daily
limit, reset at midnight; a `500` means "resend your notification" (docs.notifications.service.gov.uk,
Limits and the clients' error codes). Onward's default budget is 2,500 a minute, leaving headroom for
other senders of the same service. `send_many` answers, per message, None (sent) or a `Refused`.

Never log a message: its address, words and link are personal data or a credential.
"""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol

NOTIFY_URL = "https://api.notifications.service.gov.uk"
SOON, TOMORROW, NEVER = "soon", "tomorrow", "never"  # when a refused message may be tried again


@dataclass(frozen=True)
class Message:
    to: str                 # a phone number (sms) or an email address (email)
    channel: str            # sms | email
    body: str               # the words, as the development mailbox shows them
    link: str
    personalisation: dict[str, str]
    reference: str          # an id of ours (no personal data), for Notify's delivery reports


@dataclass(frozen=True)
class Refused:
    """A message not sent: why (no personal data) and when it may be tried again (SOON, TOMORROW, NEVER)."""
    reason: str
    retry: str


class MessageSender(Protocol):
    per_minute: int | None      # the most messages a minute the sender takes (None: no limit)
    in_transaction: bool        # the send is a row in the caller's transaction (so it rolls back with it)

    async def send_many(self, conn, messages: list[Message]) -> list[Refused | None]: ...


class NotifySender:
    """GOV.UK Notify: a few calls at a time (one client each); after a rate-limit refusal the rest of the
    batch is not sent (`paused`: it waits a minute, and that is not counted as a try)."""

    in_transaction = False

    def __init__(self, api_key: str, templates: dict[str, str], per_minute: int | None = 2500,
                 base_url: str = NOTIFY_URL, client=None, concurrency: int = 8) -> None:
        if client is None:
            from notifications_python_client.notifications import NotificationsAPIClient
            clients = [NotificationsAPIClient(api_key, base_url=base_url) for _ in range(concurrency)]
        else:
            clients = [client]
        self.templates, self.per_minute, self._clients = templates, per_minute, clients

    async def send_many(self, conn, messages: list[Message]) -> list[Refused | None]:
        idle: asyncio.Queue = asyncio.Queue()
        for c in self._clients:
            idle.put_nowait(c)
        busy = []  # set once Notify says "too many": the rest of the batch does not ask again

        async def one(message: Message) -> Refused | None:
            client = await idle.get()
            try:
                if busy:  # not sent to Notify at all: not a try
                    return Refused("paused", SOON)
                await asyncio.to_thread(self._call, client, message)
                return None
            except Exception as exc:  # noqa: BLE001 - every refusal is classified, none escapes
                refused = refusal(exc)
                if refused.reason == "rate_limited":
                    busy.append(True)
                return refused
            finally:
                idle.put_nowait(client)
        return list(await asyncio.gather(*(one(m) for m in messages)))

    def _call(self, client, message: Message) -> None:
        template_id = self.templates[message.channel]
        if message.channel == "sms":
            client.send_sms_notification(phone_number=message.to, template_id=template_id,
                                         personalisation=message.personalisation, reference=message.reference)
        else:
            client.send_email_notification(email_address=message.to, template_id=template_id,
                                           personalisation=message.personalisation, reference=message.reference)


def refusal(exc: Exception) -> Refused:
    """What a failed call to Notify means: 429 RateLimitError and 5xx are tried again within minutes; the
    daily limit tomorrow; no answer at all (a time-out) may have been sent, so it is never repeated; other
    4xx (a number or address Notify refuses) never; 403 (the key) soon, so that a fixed key catches up."""
    response = getattr(exc, "response", None)
    if not hasattr(exc, "status_code"):
        return Refused(type(exc).__name__, SOON)
    if response is None:  # no HTTP answer: refused connection (not sent) or time-out (perhaps sent)
        import requests
        cause = exc.__cause__
        timed_out = isinstance(cause, requests.Timeout) and not isinstance(cause, requests.ConnectTimeout)
        return Refused("timeout_outcome_unknown", NEVER) if timed_out else Refused("unreachable", SOON)
    code = exc.status_code
    if code == 429:
        errors = exc.message if isinstance(exc.message, list) else []
        daily = any(isinstance(e, dict) and e.get("error") == "TooManyRequestsError" for e in errors)
        return Refused("daily_limit", TOMORROW) if daily else Refused("rate_limited", SOON)
    if code >= 500 or code == 403:
        return Refused(f"notify_{code}", SOON)
    return Refused(f"notify_{code}", NEVER)


class MailboxSender:
    """Development: `store(conn, rows)` keeps (to, channel, body, link) rows for /dev/messages, in the
    caller's transaction. No limit unless one is configured (ONWARD_DEV_MESSAGES_PER_MINUTE)."""

    in_transaction = True

    def __init__(self, store: Callable[..., Awaitable[None]], per_minute: int | None = None) -> None:
        self.store, self.per_minute = store, per_minute

    async def send_many(self, conn, messages: list[Message]) -> list[Refused | None]:
        await self.store(conn, [(m.to, m.channel, m.body, m.link) for m in messages])
        return [None] * len(messages)


def check_production(settings) -> None:
    """la_tracker in production refuses to start without what its messages need; the error names the
    variable, never its value."""
    if settings.env != "production":
        return
    for name, value in (("ONWARD_NOTIFY_API_KEY", settings.notify_api_key),
                        ("ONWARD_NOTIFY_SMS_TEMPLATE_ID", settings.notify_sms_template_id),
                        ("ONWARD_NOTIFY_EMAIL_TEMPLATE_ID", settings.notify_email_template_id)):
        if not value:
            raise RuntimeError(f"{name} must be set in production (messages to young people go through GOV.UK Notify)")
        if name.endswith("_TEMPLATE_ID") and not _is_uuid(value):
            raise RuntimeError(f"{name} must be a GOV.UK Notify template id (a UUID from its Templates page)")
    url = settings.public_url
    if not url.startswith("https://") or "127.0.0.1" in url or "localhost" in url:
        raise RuntimeError("ONWARD_PUBLIC_URL must be la_tracker's public https address in production"
                           " (the links in messages to young people point to it)")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def sender_for(settings, mailbox_store: Callable[..., Awaitable[None]]) -> MessageSender:
    """Notify when an API key is set (and always in production, which refuses to start without one);
    else the development mailbox."""
    check_production(settings)
    key = settings.notify_api_key.get_secret_value() if settings.notify_api_key else None
    if key:
        templates = {"sms": settings.notify_sms_template_id, "email": settings.notify_email_template_id}
        for channel, name in (("sms", "ONWARD_NOTIFY_SMS_TEMPLATE_ID"), ("email", "ONWARD_NOTIFY_EMAIL_TEMPLATE_ID")):
            if not templates[channel]:
                raise RuntimeError(f"set {name} with ONWARD_NOTIFY_API_KEY")
        return NotifySender(key, templates, per_minute=settings.notify_messages_per_minute,
                            base_url=settings.notify_base_url)
    return MailboxSender(mailbox_store, per_minute=settings.dev_messages_per_minute)
