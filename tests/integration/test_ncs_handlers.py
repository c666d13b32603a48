"""ncs_referral's use cases (services/ncs_referral/handlers.py and queries.py) on a real PostgreSQL,
without the processes: intake, withdrawal, the adviser's steps, the stale-claim sweep and erasure."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from onward import erasure
from onward.auth import Principal
from onward.consumer import Rejected
from schemas.events import PersonErased, ReferralWithdrawn, YoungPersonRequest
from services.ncs_referral import domain, handlers, queries
from services.ncs_referral.wire import ContactIn, OutcomeIn
from tests import factories as f

ADVISER = Principal(sub="adviser-1", role="ncs_adviser", ncs_area=f.EAST_MIDLANDS)
OTHER_ADVISER = Principal(sub="adviser-2", role="ncs_adviser", ncs_area=f.EAST_MIDLANDS)
LONDON_ADVISER = Principal(sub="adviser-3", role="ncs_adviser", ncs_area="London")


@pytest.fixture
async def pool(infra):
    async with f.fresh_database(infra, "ncs_referral") as pool:
        yield pool


async def _received(pool, ev):
    async with pool.acquire() as conn, conn.transaction():
        await handlers.on_referral_requested(conn, ev)


async def _row(pool, referral_id):
    async with pool.acquire() as conn:
        return await conn.fetchrow("select * from referrals where referral_id = $1", referral_id)


async def _outcomes(pool) -> list[dict]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("select payload from outbox where topic = 'ncs-referral.referral-outcome.v1' order by id")
    return [json.loads(r["payload"]) for r in rows]


async def test_a_referral_is_stored_with_the_handoff_only_in_the_area_of_the_las_region(pool):
    ev = f.referral_requested(area_la="892", ncs_area="somewhere the LA did not say",  # Nottingham
                              wants="an apprenticeship in joinery", best_channel="text",
                              la_officer_name="Sam Officer", return_after_attempts=4, return_after_days=10)
    await _received(pool, ev)
    row = await _row(pool, ev.referral_id)
    assert (row["status"], row["ncs_area"], row["responsible_la"]) == ("new", "East Midlands", "892")
    # The handoff fields and the LA's words, nothing else of the event (not its consent, ids or numbers).
    assert set(row["handoff"]) == set(domain.HANDOFF_FIELDS) | set(domain.HANDOFF_WORDS)
    assert (row["handoff"]["wants"], row["handoff"]["best_channel"], row["handoff"]["la_officer_name"],
            row["handoff"]["reason_text"], row["handoff"]["access_needs"]) == (
        "an apprenticeship in joinery", "text", "Sam Officer", "No known destination after leaving school", None)
    # The LA's could-not-contact numbers travel on the referral.
    assert (row["return_after_attempts"], row["return_after_days"]) == (4, 10)
    assert row["consent"]["share_with_ncs"] is True and "objects_to_sharing" not in row["consent"]


async def test_the_young_persons_own_request_travels_with_the_handoff(pool):
    asked = YoungPersonRequest(contact_by="text", contact_time="after 4pm", in_their_words="help with college",
                               asked_at=datetime(2026, 11, 30, 10, tzinfo=timezone.utc))
    ev = f.referral_requested(young_person_request=asked)
    await _received(pool, ev)
    handoff = (await _row(pool, ev.referral_id))["handoff"]
    assert set(handoff) == set(domain.HANDOFF_FIELDS) | set(domain.HANDOFF_WORDS) | {"young_person_request"}
    assert handoff["young_person_request"] == {"contact_by": "text", "contact_time": "after 4pm",
                                               "in_their_words": "help with college",
                                               "asked_at": "2026-11-30T10:00:00Z"}


async def test_the_same_referral_twice_is_stored_once(pool):
    ev = f.referral_requested()
    await _received(pool, ev)
    await _received(pool, ev)
    async with pool.acquire() as conn:
        kinds = [r["kind"] for r in await conn.fetch("select kind from referral_timeline where referral_id = $1",
                                                     ev.referral_id)]
    assert kinds == ["received"]


# schemas/consent.py's one rule for both services; the refusal says why (no consent, or an objection).
@pytest.mark.parametrize("consent, objects, why", [(False, False, "no recorded consent"),
                                                  (True, True, "objects to sharing"), (False, True, "objects to sharing")])
async def test_a_referral_without_consent_to_share_is_refused(pool, consent, objects, why):
    ev = f.referral_requested(consent=consent, objects=objects)
    with pytest.raises(Rejected, match=why):
        await _received(pool, ev)
    assert await _row(pool, ev.referral_id) is None


async def test_a_referral_from_an_unknown_la_is_refused(pool):
    ev = f.referral_requested(area_la="999")
    with pytest.raises(Rejected, match="999"):
        await _received(pool, ev)


async def test_a_referral_replayed_after_erasure_is_not_stored_again(pool):
    ev = f.referral_requested()
    async with pool.acquire() as conn:
        await erasure.forget(conn, [ev.person_key], uuid.uuid4())
    await _received(pool, ev)
    assert await _row(pool, ev.referral_id) is None


async def test_withdrawal_closes_an_open_referral_but_not_a_finished_one(pool):
    open_, done = f.referral_requested(), f.referral_requested()
    for ev in (open_, done):
        await _received(pool, ev)
    await queries.claim(pool, ADVISER, done.referral_id)
    await queries.record_outcome(pool, ADVISER, done.referral_id, OutcomeIn(activity_code="310"))
    for ev in (open_, done):
        async with pool.acquire() as conn, conn.transaction():
            await handlers.on_referral_withdrawn(conn, ReferralWithdrawn(
                producer="la_tracker", correlation_id=uuid.uuid4(), person_key=ev.person_key,
                referral_id=ev.referral_id, case_id=ev.case_id, reason="destination_confirmed"))
    assert [(await _row(pool, ev.referral_id))["status"] for ev in (open_, done)] == ["withdrawn", "closed"]


async def test_one_adviser_claims_and_another_cannot_take_it(pool):
    ev = f.referral_requested()
    await _received(pool, ev)
    claimed = await queries.claim(pool, ADVISER, ev.referral_id)
    assert (claimed["status"], claimed["claimed_by"]) == ("claimed", "adviser-1")
    with pytest.raises(domain.NotAllowed, match="another adviser"):
        await queries.claim(pool, OTHER_ADVISER, ev.referral_id)
    with pytest.raises(domain.NotAllowed, match="another adviser"):
        await queries.record_contact(pool, OTHER_ADVISER, ev.referral_id, ContactIn(method="phone", outcome="reached"))
    assert (await _row(pool, ev.referral_id))["claimed_by"] == "adviser-1"


async def test_another_areas_referral_is_not_found_for_reads_and_steps(pool):
    ev = f.referral_requested()
    await _received(pool, ev)
    with pytest.raises(domain.NotFound):
        await queries.get_referral(pool, LONDON_ADVISER, ev.referral_id)
    with pytest.raises(domain.NotFound):
        await queries.claim(pool, LONDON_ADVISER, ev.referral_id)
    listed = await queries.list_referrals(pool, LONDON_ADVISER, person_key=ev.person_key)
    assert (listed["total"], listed["items"]) == (0, [])
    assert (await _row(pool, ev.referral_id))["status"] == "new"


async def test_reading_a_referral_is_audited_with_the_fields_shown(pool):
    ev = f.referral_requested(access_needs="prefers written contact",
                              young_person_request=YoungPersonRequest(in_their_words="call me after 4"))
    await _received(pool, ev)
    shown = await queries.get_referral(pool, ADVISER, ev.referral_id)
    async with pool.acquire() as conn:
        audit = await conn.fetch("select actor_sub, action, fields from audit_log where object_id = $1",
                                 str(ev.referral_id))
    assert shown["handoff"]["family_name"] == "Khan" and shown["timeline"][0]["kind"] == "received"
    assert shown["handoff"]["access_needs"] == "prefers written contact"
    assert shown["handoff"]["young_person_request"]["in_their_words"] == "call me after 4"
    # Every field shown is audited: the handoff fields, the LA's words and the young person's request.
    assert sorted(shown["handoff"]) == sorted([*domain.HANDOFF_FIELDS, *domain.HANDOFF_WORDS, "young_person_request"])
    assert [(a["actor_sub"], a["action"], sorted(a["fields"])) for a in audit] == [
        ("adviser-1", "read", sorted(shown["handoff"]))]


async def test_the_named_queue_audits_the_names_it_shows(pool):
    ev = f.referral_requested(ncs_area="London", area_la="202")  # Camden: its own area, alone in the queue
    await _received(pool, ev)
    result, counts = await queries.named_queue(pool, LONDON_ADVISER, status=None, sort="priority", page_no=1)
    async with pool.acquire() as conn:
        audit = await conn.fetch("select action, fields from audit_log where object_id = $1", str(ev.referral_id))
    assert [r["name"] for r in result["items"]] == ["Amira Khan"] and counts == {"new": 1}
    assert [(a["action"], sorted(a["fields"])) for a in audit] == [("list", ["family_name", "given_name"])]


async def _contact(pool, referral_id, method, outcome="no_answer", confirm_return=False):
    return await queries.record_contact(pool, ADVISER, referral_id,
                                        ContactIn(method=method, outcome=outcome, confirm_return=confirm_return))


async def _contacts(pool, referral_id) -> list[tuple]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("select detail from referral_timeline where referral_id = $1 and kind = 'contact'"
                                " order by id", referral_id)
    return [(r["detail"]["method"], r["detail"]["counted"]) for r in rows]


async def _days_ago(pool, referral_id, days: int, column: str = "contacts") -> None:
    """Move what happened back in time: the contacts logged so far, or the return."""
    async with pool.acquire() as conn:
        if column == "contacts":
            await conn.execute("update referral_timeline set at = at - make_interval(days => $2)"
                               " where referral_id = $1 and kind = 'contact'", referral_id, days)
        else:
            await conn.execute("update referrals set returned_at = returned_at - make_interval(days => $2)"
                               " where referral_id = $1", referral_id, days)


async def _send_due_returns(pool) -> int:
    async with pool.acquire() as conn, conn.transaction():
        return await handlers.send_due_returns(conn)


async def test_the_last_allowed_failed_contact_returns_the_young_person_to_the_la_as_820(pool):
    """The LA's rule (3 attempts over at least 7 days): attempts count once per day and channel; the
    returning attempt must be confirmed; the LA is told only after the undo day."""
    ev = f.referral_requested(return_after_attempts=3, return_after_days=7)
    await _received(pool, ev)
    await queries.claim(pool, ADVISER, ev.referral_id)

    first = await _contact(pool, ev.referral_id, "phone")
    assert (first["status"], first["failed_contacts"]) == ("claimed", 1)   # "in contact" only once reached
    await _contact(pool, ev.referral_id, "phone")                 # the same day and channel: not another attempt
    await _contact(pool, ev.referral_id, "text", "left_message")
    today = await _contact(pool, ev.referral_id, "email")         # three counted attempts, but all on one day
    assert (today["status"], today["outcome_code"]) == ("claimed", None)
    assert await _contacts(pool, ev.referral_id) == [("phone", True), ("phone", False), ("text", True),
                                                     ("email", True)]

    await _days_ago(pool, ev.referral_id, 7)   # those were a week ago: the next attempt completes the rule
    with pytest.raises(domain.ConfirmReturn, match="returns the young person to Derby"):
        await _contact(pool, ev.referral_id, "phone")
    unconfirmed = await _row(pool, ev.referral_id)
    assert (unconfirmed["status"], unconfirmed["outcome_code"], unconfirmed["returned_at"]) == ("claimed", None, None)
    assert len(await _contacts(pool, ev.referral_id)) == 4   # the refused attempt left nothing behind

    last = await _contact(pool, ev.referral_id, "phone", confirm_return=True)

    assert (last["status"], last["outcome_code"]) == ("returned_to_la", "820")
    row = await _row(pool, ev.referral_id)
    assert row["returned_at"] is not None and row["return_sent_at"] is None
    # Undoable for a day: the LA hears nothing yet.
    assert await _send_due_returns(pool) == 0
    assert await _outcomes(pool) == []

    await _days_ago(pool, ev.referral_id, 2, column="returned_at")
    assert await _send_due_returns(pool) == 1
    assert await _send_due_returns(pool) == 0   # sent once
    [outcome] = await _outcomes(pool)
    assert (outcome["outcome"], outcome["activity_code"], outcome["case_id"]) == ("could_not_contact", "820",
                                                                                  str(ev.case_id))
    assert outcome["note"].startswith("4 unanswered attempts since")
    assert (await _row(pool, ev.referral_id))["return_sent_at"] is not None


async def test_the_failed_contacts_figure_counts_only_attempts_on_a_new_day_or_channel(pool):
    """The number shown to the adviser follows the LA's rule: three calls in one afternoon are one attempt."""
    ev = f.referral_requested(return_after_attempts=5, return_after_days=7)
    await _received(pool, ev)
    await queries.claim(pool, ADVISER, ev.referral_id)
    figures = [(await _contact(pool, ev.referral_id, method, outcome))["failed_contacts"] for method, outcome in
               (("phone", "no_answer"), ("phone", "no_answer"), ("phone", "left_message"), ("text", "no_answer"),
                ("phone", "reached"), ("text", "wrong_details"))]
    assert figures == [1, 1, 1, 2, 2, 2]
    await _days_ago(pool, ev.referral_id, 1)
    assert (await _contact(pool, ev.referral_id, "phone"))["failed_contacts"] == 3   # the same channel, a new day


async def test_attempts_spread_over_too_few_days_do_not_return_the_young_person(pool):
    ev = f.referral_requested(return_after_attempts=2, return_after_days=7)
    await _received(pool, ev)
    await queries.claim(pool, ADVISER, ev.referral_id)
    await _contact(pool, ev.referral_id, "phone")
    await _days_ago(pool, ev.referral_id, 6)
    after = await _contact(pool, ev.referral_id, "phone")   # a second day, but only 6 days after the first
    assert (after["status"], after["outcome_code"]) == ("claimed", None)
    assert await _contacts(pool, ev.referral_id) == [("phone", True), ("phone", True)]


async def test_the_las_own_numbers_decide_when_a_young_person_is_returned(pool):
    """An LA that returns after two attempts on any days: a call and a text the same day are enough."""
    ev = f.referral_requested(return_after_attempts=2, return_after_days=0)
    await _received(pool, ev)
    await queries.claim(pool, ADVISER, ev.referral_id)
    await _contact(pool, ev.referral_id, "phone")
    with pytest.raises(domain.ConfirmReturn, match="attempt 2"):
        await _contact(pool, ev.referral_id, "text")
    returned = await _contact(pool, ev.referral_id, "text", confirm_return=True)
    assert (returned["status"], returned["outcome_code"]) == ("returned_to_la", "820")


async def test_a_contact_that_reached_the_young_person_is_not_a_failed_attempt(pool):
    ev = f.referral_requested()
    await _received(pool, ev)
    await queries.claim(pool, ADVISER, ev.referral_id)
    after = await queries.record_contact(pool, ADVISER, ev.referral_id, ContactIn(method="phone", outcome="reached"))
    assert (after["status"], after["failed_contacts"]) == ("in_contact", 0)


async def test_an_eet_outcome_closes_the_referral_and_tells_the_la(pool):
    ev = f.referral_requested()
    await _received(pool, ev)
    with pytest.raises(domain.NotAllowed, match="claim it first"):
        await queries.record_outcome(pool, ADVISER, ev.referral_id, OutcomeIn(activity_code="310"))
    await queries.claim(pool, ADVISER, ev.referral_id)
    closed = await queries.record_outcome(pool, ADVISER, ev.referral_id, OutcomeIn(activity_code="310", note="started"))
    assert (closed["status"], closed["outcome_code"]) == ("closed", "310")
    [outcome] = await _outcomes(pool)
    assert (outcome["outcome"], outcome["activity_code"], outcome["referral_id"]) == ("activity", "310",
                                                                                      str(ev.referral_id))
    with pytest.raises(domain.NotAllowed, match="closed"):
        await queries.record_outcome(pool, ADVISER, ev.referral_id, OutcomeIn(activity_code="230"))


async def test_a_claim_left_too_long_is_swept_back_to_the_la_and_a_recent_one_is_not(pool):
    stale, recent = f.referral_requested(), f.referral_requested()
    for ev in (stale, recent):
        await _received(pool, ev)
        await queries.claim(pool, ADVISER, ev.referral_id)
    async with pool.acquire() as conn:
        await conn.execute("update referrals set claimed_at = $2 where referral_id = $1", stale.referral_id,
                           datetime.now(timezone.utc) - timedelta(days=15))
        async with conn.transaction():
            swept = await handlers.return_stale_claims(conn, older_than_days=14)
        async with conn.transaction():
            again = await handlers.return_stale_claims(conn, older_than_days=14)
    assert (swept, again) == (1, 0)
    assert [(await _row(pool, ev.referral_id))["status"] for ev in (stale, recent)] == ["returned_to_la", "claimed"]
    [outcome] = await _outcomes(pool)
    assert (outcome["referral_id"], outcome["activity_code"]) == (str(stale.referral_id), "820")


async def test_erasure_deletes_the_referrals_under_every_key_of_the_person(pool):
    first, merged, other = f.referral_requested(), f.referral_requested(), f.referral_requested()
    for ev in (first, merged, other):
        await _received(pool, ev)
    async with pool.acquire() as conn, conn.transaction():
        await handlers.on_person_erased(conn, PersonErased(
            producer="la_tracker", correlation_id=uuid.uuid4(), person_key=first.person_key,
            erasure_id=uuid.uuid4(), person_keys=[first.person_key, merged.person_key]))
    async with pool.acquire() as conn:
        timeline = await conn.fetchval("select count(*) from referral_timeline where referral_id = any($1)",
                                       [first.referral_id, merged.referral_id])
    assert [await _row(pool, ev.referral_id) is None for ev in (first, merged, other)] == [True, True, False]
    assert timeline == 0
    await _received(pool, first)   # a replay after the erasure
    assert await _row(pool, first.referral_id) is None
