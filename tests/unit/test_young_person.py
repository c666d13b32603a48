"""The young person's own voice (issue 17): links, reminders and what answers mean, as pure rules."""
from datetime import date, timedelta

import pytest

from schemas import nccis
from services.la_tracker import domain, young_person as yp

D = date(2026, 10, 1)


def test_every_answer_means_a_real_nccis_code_or_none():
    codes = {yp.activity_code(a, f) for a, (_, _, q) in yp.ANSWERS.items()
             for f in (yp.FOLLOW_UPS[q] if q else [None])}
    assert codes - {None} <= set(nccis.ACTIVITY_CODES)
    assert yp.activity_code("something_else") is None


@pytest.mark.parametrize(("answer", "follow_up", "code", "eet"), [
    ("studying", "college", "230", True), ("studying", "university", "240", True),
    ("studying", "part_time", "250", True), ("apprenticeship", None, "310", True),
    ("job", "full_time", "330", True), ("job", "self_employed", "380", True), ("training", None, "430", True),
    ("looking", None, "619", False), ("not_able", None, "680", False), ("something_else", None, None, False)])
def test_answers_map_to_codes_and_only_eet_answers_close_a_case(answer, follow_up, code, eet):
    assert yp.activity_code(answer, follow_up) == code
    assert yp.is_eet_answer(code) is eet


def test_an_answer_that_needs_a_follow_up_has_no_code_without_it():
    with pytest.raises(yp.NotAnAnswer):
        yp.activity_code("studying")
    with pytest.raises(yp.NotAnAnswer):
        yp.activity_code("studying", "full_time")  # a job's follow-up, not a course's
    with pytest.raises(yp.NotAnAnswer):
        yp.activity_code("dancing")


def test_tokens_are_random_plausible_and_stored_only_as_a_keyed_hash():
    a, b = yp.new_token(), yp.new_token()
    assert a != b and yp.plausible_token(a) and len(a) == 32
    h = yp.token_hash("key", a)
    assert a not in h and h == yp.token_hash("key", a) != yp.token_hash("other key", a)
    for bad in (None, "", a[:-1], a + "x", a[:-1] + "%", a[:-1] + "\u0661"):
        assert not yp.plausible_token(bad)


def test_reminders_default_to_at_once_then_7_days_then_every_30_until_365():
    s = yp.ReminderSchedule()
    due = [yp.next_message_on(s, D, n) for n in range(14)]
    assert due[:4] == [D, D + timedelta(days=7), D + timedelta(days=37), D + timedelta(days=67)]
    assert due[12] == D + timedelta(days=7 + 11 * 30) and due[13] is None  # day 367 > 365: stop


def test_an_la_schedule_changes_the_reminders():
    s = yp.ReminderSchedule(first_reminder_days=3, every_days=10, stop_after_days=20)
    assert [yp.next_message_on(s, D, n) for n in range(4)] == [D, D + timedelta(days=3), D + timedelta(days=13), None]


def test_the_page_greets_by_first_name_only():
    assert yp.first_name("Mary Ann") == "Mary"
    body = yp.message_body("Mary", "https://x/you?t=abc", "Derby", reminder=False)
    assert "Mary" in body and "https://x/you?t=abc" in body and "Ann" not in body


def test_asking_for_help_refers_at_once_despite_the_la_delay_but_not_against_the_rules():
    delayed = domain.Decision(True, domain.NOT_KNOWN, "referral_delay", refer=True, refer_on=D + timedelta(days=14))
    now = yp.help_decision(delayed, D)
    assert (now.status, now.refer, now.refer_on) == (domain.REFERRED_TO_NCS, True, D)
    kept = domain.Decision(True, domain.SEND_CASELOAD, "send_caseload")
    assert yp.help_decision(kept, D) == kept


def test_production_sends_through_notify_or_refuses_to_start_and_refuses_the_mailbox():
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from onward.notify import MailboxSender, NotifySender, sender_for
    from services.la_tracker import dev_mailbox

    def settings(env, key=None):
        return _settings(env, ONWARD_NOTIFY_API_KEY=key) if key else _settings(env, ONWARD_NOTIFY_API_KEY=None)
    with pytest.raises(RuntimeError, match="ONWARD_NOTIFY_API_KEY"):
        sender_for(settings("production"), None)
    assert isinstance(sender_for(settings("development"), None), MailboxSender)
    key = "test_key-" + "0" * 36 + "-" + "1" * 36  # Notify's key format: name, service id, secret
    assert isinstance(sender_for(settings("production", key), None), NotifySender)

    app = FastAPI()
    app.include_router(dev_mailbox.router)
    app.state.settings = settings("production")
    client = TestClient(app)
    assert client.get("/dev/messages.json").status_code == 404
    assert client.get("/dev/messages").status_code == 404


def _settings(env: str, **over):
    """A production-valid configuration for la_tracker's messages, with `over` changed (None: unset)."""
    from onward.settings import Settings

    values = {"ONWARD_ENV": env, "ONWARD_JWT_SECRET": "j" * 40, "ONWARD_PERSON_KEY_SECRET": "p" * 40,
              "ONWARD_DEV_SIGN_IN": "false", "ONWARD_PUBLIC_URL": "https://onward-la.example.gov.uk",
              "ONWARD_NOTIFY_API_KEY": "test_key-" + "0" * 36 + "-" + "1" * 36,
              "ONWARD_NOTIFY_SMS_TEMPLATE_ID": "f33517ff-2a88-4f6e-b855-c550268ce08a",
              "ONWARD_NOTIFY_EMAIL_TEMPLATE_ID": "a1b2c3d4-2a88-4f6e-b855-c550268ce08b"}
    values.update(over)
    return Settings(**{k: v for k, v in values.items() if v is not None})


@pytest.mark.parametrize("name, value", [
    ("ONWARD_NOTIFY_API_KEY", None), ("ONWARD_NOTIFY_SMS_TEMPLATE_ID", None), ("ONWARD_NOTIFY_EMAIL_TEMPLATE_ID", None),
    ("ONWARD_NOTIFY_SMS_TEMPLATE_ID", "set-me"), ("ONWARD_PUBLIC_URL", None),
    ("ONWARD_PUBLIC_URL", "http://onward-la.example.gov.uk"), ("ONWARD_PUBLIC_URL", "https://localhost:8002")])
def test_la_trackers_messages_fail_closed_in_production_naming_the_variable_never_its_value(name, value):
    from onward.notify import check_production, sender_for

    check_production(_settings("production"))  # the complete configuration starts
    broken = _settings("production", **{name: value})
    with pytest.raises(RuntimeError, match=name) as refused:
        sender_for(broken, None)
    assert "0" * 36 not in str(refused.value) and (value is None or value not in str(refused.value))
    check_production(_settings("development", **{name: value}))  # development falls back to the mailbox
