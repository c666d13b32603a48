"""school_exit's stream worker: the LA's case statuses come back as the school's onward status."""
from __future__ import annotations

import faust

from onward.settings import Settings
from onward.stream import Resources, consume, make_app
from schemas.events import CaseStatusChanged
from services.school_exit import handlers

CONSUMER = "school_exit"


def build_worker(settings: Settings) -> faust.App:
    app = make_app("school_exit", settings)
    consume(app, CaseStatusChanged.TOPIC, CONSUMER, handlers.on_case_status_changed, Resources(settings))
    return app
