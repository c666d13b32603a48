"""la_tracker's stream worker: school and NCS events in, cases and referrals out (via the outbox)."""
from __future__ import annotations

import asyncio
from datetime import date

import faust

from onward.settings import Settings
from onward.stream import Resources, consume, make_app, purge_on_schedule
from schemas.events import DestinationReported, LeaverRegistered, PersonErasureRequested, ReferralOutcomeRecorded
from onward import notify
from services.la_tracker import batch, handlers, outreach, scheduler, self_report, store_you
from onward.postcodes import directory

CONSUMER = "la_tracker"


def build_worker(settings: Settings, clock=date.today) -> faust.App:
    app = make_app("la_tracker", settings)
    res = Resources(settings)
    purge_on_schedule(app, "la_tracker", res, settings)

    @app.task
    async def load_postcodes() -> None:
        """The postcode tables (every first letter, ~2 s of CPU) load at start, beside the consumers, not
        in the middle of the first burst of reports."""
        await asyncio.to_thread(directory().load_all)

    sender = notify.sender_for(settings, store_you.add_dev_messages)
    # Reports of new young people (most of a cohort) go set-based; the rest one by one.
    consume(app, LeaverRegistered.TOPIC, CONSUMER, _with_today(handlers.on_leaver_registered, clock), res,
            batch_effect=_with_today(batch.register_new_people, clock))
    for topic, handler in ((DestinationReported.TOPIC, handlers.on_destination_reported),
                           (ReferralOutcomeRecorded.TOPIC, handlers.on_referral_outcome),
                           (PersonErasureRequested.TOPIC, handlers.on_person_erasure_requested),
                           *self_report.HANDLERS):
        consume(app, topic, CONSUMER, _with_today(handler, clock), res)

    @app.timer(settings.sweep_interval_seconds)
    async def run_scheduled_jobs() -> None:
        pool = await res.pool()
        while True:  # drain everything due, 100 jobs a transaction
            async with pool.acquire() as conn, conn.transaction():
                if await scheduler.run_due(conn, clock()) < 100:
                    break
        # Issue 17: messages and reminders due to young people, paced to the sender's limit (outreach.py).
        await outreach.tick(pool, sender, settings, clock())

    return app


def _with_today(handler, clock):
    async def effect(conn, event):
        return await handler(conn, event, today=clock())
    return effect
