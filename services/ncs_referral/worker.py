"""ncs_referral's stream worker: referrals and withdrawals from LAs."""
from __future__ import annotations

import logging

import faust

from onward.settings import Settings
from onward.stream import Resources, consume, make_app, purge_on_schedule
from schemas.events import PersonErased, ReferralRequested, ReferralWithdrawn
from services.ncs_referral import handlers

CONSUMER = "ncs_referral"
log = logging.getLogger(__name__)


def build_worker(settings: Settings) -> faust.App:
    app = make_app("ncs_referral", settings)
    res = Resources(settings)
    purge_on_schedule(app, "ncs_referral", res, settings)
    consume(app, ReferralRequested.TOPIC, CONSUMER, handlers.on_referral_requested, res)
    consume(app, ReferralWithdrawn.TOPIC, CONSUMER, handlers.on_referral_withdrawn, res)
    consume(app, PersonErased.TOPIC, CONSUMER, handlers.on_person_erased, res)

    @app.timer(settings.sweep_interval_seconds)
    async def return_stale_claims() -> None:
        pool = await res.pool()
        async with pool.acquire() as conn, conn.transaction():
            n = await handlers.return_stale_claims(conn, settings.ncs_claim_days)
            n += await handlers.send_due_returns(conn)  # could-not-contact returns past their undo day
        if n:
            log.info("stale claims returned to LAs", extra={"count": n})

    return app
