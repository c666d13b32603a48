"""Sending a young person a text message or an email: a small port with two implementations.

- `NotifySender`: GOV.UK Notify through its maintained client (`notifications-python-client`). The
  words live in Notify templates, chosen by id (ONWARD_NOTIFY_SMS_TEMPLATE_ID,
  ONWARD_NOTIFY_EMAIL_TEMPLATE_ID); Onward sends the personalisation `first_name`, `link`, `la_name`, `days`
  and `reminder` ("yes"/"no"). The client is synchronous (requests), so it runs in a thread.
- `MailboxSender`: development and tests. The message is kept in the service's database and shown at
  `/dev/messages` (refused in production), so people and tests can open the link.

Never log a message: its address, words and link are personal data or a credential.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol


@dataclass(frozen=True)
class Message:
    to: str                 # a phone number (sms) or an email address (email)
    channel: str            # sms | email
    body: str               # the words, as the development mailbox shows them
    link: str
    personalisation: dict[str, str]
    reference: str          # an id of ours (no personal data), for Notify's delivery reports


class MessageSender(Protocol):
    async def send(self, conn, message: Message) -> None: ...


class NotifySender:
    """GOV.UK Notify. A failure raises, so the caller's transaction (and the link) rolls back."""

    def __init__(self, api_key: str, templates: dict[str, str], client=None) -> None:
        if client is None:
            from notifications_python_client.notifications import NotificationsAPIClient
            client = NotificationsAPIClient(api_key)
        self.client, self.templates = client, templates

    async def send(self, conn, message: Message) -> None:
        template_id = self.templates[message.channel]
        if message.channel == "sms":
            call = lambda: self.client.send_sms_notification(  # noqa: E731
                phone_number=message.to, template_id=template_id, personalisation=message.personalisation,
                reference=message.reference)
        else:
            call = lambda: self.client.send_email_notification(  # noqa: E731
                email_address=message.to, template_id=template_id, personalisation=message.personalisation,
                reference=message.reference)
        await asyncio.to_thread(call)


class MailboxSender:
    """Development: `store(conn, to, channel, body, link)` keeps the message for /dev/messages."""

    def __init__(self, store: Callable[..., Awaitable[None]]) -> None:
        self.store = store

    async def send(self, conn, message: Message) -> None:
        await self.store(conn, message.to, message.channel, message.body, message.link)


def sender_for(settings, mailbox_store: Callable[..., Awaitable[None]]) -> MessageSender:
    """Notify when an API key is set (and always in production, which refuses to start without one);
    else the development mailbox."""
    key = settings.notify_api_key.get_secret_value() if settings.notify_api_key else None
    if key:
        templates = {"sms": settings.notify_sms_template_id, "email": settings.notify_email_template_id}
        if not all(templates.values()):
            raise RuntimeError("set ONWARD_NOTIFY_SMS_TEMPLATE_ID and ONWARD_NOTIFY_EMAIL_TEMPLATE_ID with the API key")
        return NotifySender(key, templates)
    if settings.env == "production":
        raise RuntimeError("ONWARD_NOTIFY_API_KEY must be set in production (messages go through GOV.UK Notify)")
    return MailboxSender(mailbox_store)
