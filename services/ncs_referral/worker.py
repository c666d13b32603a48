"""ncs_referral's stream worker: referrals and withdrawals from LAs."""
from __future__ import annotations

import faust

from onward.settings import Settings
from onward.stream import Resources, consume, make_app
from schemas.events import ReferralRequested, ReferralWithdrawn
from services.ncs_referral import handlers

CONSUMER = "ncs_referral"


def build_worker(settings: Settings) -> faust.App:
    app = make_app("ncs_referral", settings)
    res = Resources(settings)
    consume(app, ReferralRequested.TOPIC, CONSUMER, handlers.on_referral_requested, res)
    consume(app, ReferralWithdrawn.TOPIC, CONSUMER, handlers.on_referral_withdrawn, res)
    return app
