"""school_exit's stream worker: the LA's case statuses come back as the school's onward status."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

import faust

from onward.settings import Settings
from onward.stream import Resources, consume, make_app, purge_on_schedule
from schemas.events import CaseStatusChanged
from schemas.topics import LEAVER_SUBMITTED, PoisonMessage
from services.school_exit import handlers, intake
from services.school_exit.wire import LeaverIn

CONSUMER = "school_exit"


@dataclass(frozen=True)
class Submission:
    """A leaver published straight to Kafka. Its id is its place in the log, so a redelivery is a duplicate."""

    event_id: UUID
    leaver: LeaverIn


def decode_submission(msg: faust.types.Message) -> Submission:
    try:
        raw = json.loads(msg.value)
    except (TypeError, UnicodeDecodeError, json.JSONDecodeError):
        raise PoisonMessage("value is not a JSON leaver") from None
    checked = intake.validate(raw, date.today())
    if isinstance(checked, list):
        raise PoisonMessage("invalid leaver: " + "; ".join(f"{p['field']}: {p['message']}" for p in checked))
    return Submission(uuid5(NAMESPACE_URL, f"kafka:{msg.topic}:{msg.partition}:{msg.offset}"), checked)


def build_worker(settings: Settings) -> faust.App:
    app = make_app("school_exit", settings)
    res = Resources(settings)
    purge_on_schedule(app, "school_exit", res, settings)
    consume(app, CaseStatusChanged.TOPIC, CONSUMER, handlers.on_case_status_changed, res,
            batch_effect=handlers.on_case_statuses_changed)

    async def register(conn, submission: Submission) -> None:
        await handlers.register_leavers(conn, [submission.leaver], correlation_id=submission.event_id,
                                        person_key_secret=settings.person_key_secret.get_secret_value())

    consume(app, LEAVER_SUBMITTED, CONSUMER, register, res, decoder=decode_submission)
    return app
