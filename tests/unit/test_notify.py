"""What GOV.UK Notify's refusals mean for a message (onward/notify.py) and when it is tried again
(services/la_tracker/outreach.after_try): the errors are the client's own, built from Notify's documented
answers."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import requests
from notifications_python_client.errors import HTTPError

from onward.notify import NEVER, SOON, TOMORROW, Refused, refusal
from services.la_tracker.outreach import after_try

NOW = datetime(2026, 8, 13, 9, 30, tzinfo=timezone.utc)


def _answered(status: int, error: str = "", message: str = "") -> HTTPError:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps({"status_code": status, "errors": [{"error": error, "message": message}]}).encode()
    return HTTPError.create(requests.HTTPError(response=response))


def _no_answer(cause: Exception) -> HTTPError:
    try:
        raise HTTPError.create(cause) from cause
    except HTTPError as exc:
        return exc


@pytest.mark.parametrize("exc, expected", [
    (_answered(429, "RateLimitError", "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"),
     Refused("rate_limited", SOON)),
    (_answered(429, "TooManyRequestsError", "Exceeded send limits (250000) for today"), Refused("daily_limit", TOMORROW)),
    (_answered(500, "Exception", "Internal server error"), Refused("notify_500", SOON)),
    (_answered(503), Refused("notify_503", SOON)),
    (_answered(403, "AuthError", "Invalid token: API key not found"), Refused("notify_403", SOON)),
    (_answered(400, "ValidationError", "phone_number Not a UK mobile number"), Refused("notify_400", NEVER)),
    (_no_answer(requests.ConnectionError()), Refused("unreachable", SOON)),
    (_no_answer(requests.ConnectTimeout()), Refused("unreachable", SOON)),
    (_no_answer(requests.ReadTimeout()), Refused("timeout_outcome_unknown", NEVER)),  # perhaps sent: not again
])
def test_notifys_refusals_are_classified(exc, expected):
    assert refusal(exc) == expected


def test_a_refused_message_is_tried_again_within_minutes_then_fails_and_the_daily_limit_waits_for_tomorrow():
    assert after_try(1, None, NOW, 5) == ("sent", None, None)
    soon = Refused("rate_limited", SOON)
    assert [after_try(n, soon, NOW, 5)[1] - NOW for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert after_try(5, soon, NOW, 6) == ("waiting", NOW + timedelta(minutes=15), "rate_limited")
    assert after_try(5, soon, NOW, 5) == ("failed", None, "rate_limited_after_5_tries")
    status, when, _ = after_try(1, Refused("daily_limit", TOMORROW), NOW, 5)
    assert status == "waiting" and when == datetime(2026, 8, 14, 0, 5, tzinfo=timezone.utc)
    assert after_try(1, Refused("notify_400", NEVER), NOW, 5) == ("failed", None, "notify_400")
    assert after_try(5, Refused("paused", SOON), NOW, 5) == ("waiting", NOW + timedelta(minutes=1), "paused")
