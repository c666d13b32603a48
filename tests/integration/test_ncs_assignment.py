"""Referrals assigned to a named adviser (services/ncs_referral: queries.assign, handlers.assign) on a real
PostgreSQL: by name, within the area, in bulk all or none, "My referrals", and the claim that follows."""
from __future__ import annotations

import pytest

from onward.auth import Principal
from services.ncs_referral import domain, handlers, queries
from services.ncs_referral.wire import AssignIn, BulkAssignIn, ContactIn, OutcomeIn
from tests import factories as f

ASHA = Principal(sub="adviser-asha", role="ncs_adviser", ncs_area=f.EAST_MIDLANDS, name="Asha Adviser")
BEN = Principal(sub="adviser-ben", role="ncs_adviser", ncs_area=f.EAST_MIDLANDS, name="Ben Adviser")
LONDON = Principal(sub="adviser-lon", role="ncs_adviser", ncs_area="London", name="Lou London")


@pytest.fixture
async def pool(infra):
    async with f.fresh_database(infra, "ncs_referral") as pool:
        for who in (ASHA, BEN, LONDON):
            await queries.advisers(pool, who)   # each has signed in: known by name
        yield pool


async def _referral(pool):
    ev = f.referral_requested()
    async with pool.acquire() as conn, conn.transaction():
        await handlers.on_referral_requested(conn, ev)
    return ev.referral_id


async def _mine(pool, who) -> list[str]:
    return [r["referral_id"] for r in (await queries.list_referrals(pool, who, assigned="me"))["items"]]


async def test_an_adviser_assigns_a_referral_to_a_named_colleague_of_the_area(pool):
    referral_id = await _referral(pool)
    after = await queries.assign(pool, ASHA, referral_id, AssignIn(assignee=BEN.sub))
    assert (after["assigned_to"], after["assigned_name"], after["status"]) == (BEN.sub, "Ben Adviser", "new")
    assert await _mine(pool, BEN) == [str(referral_id)] and await _mine(pool, ASHA) == []
    unassigned = await queries.list_referrals(pool, ASHA, assigned="none")
    assert str(referral_id) not in [r["referral_id"] for r in unassigned["items"]]
    timeline = (await queries.get_referral(pool, ASHA, referral_id))["timeline"]
    assert [(e["kind"], e["actor"], e.get("to")) for e in timeline][-1] == ("assigned", "Asha Adviser", "Ben Adviser")
    assert [a["name"] for a in await queries.advisers(pool, ASHA)] == ["Asha Adviser", "Ben Adviser"]


async def test_another_areas_referral_is_not_found_and_another_areas_adviser_cannot_be_assigned(pool):
    referral_id = await _referral(pool)
    with pytest.raises(domain.NotFound):
        await queries.assign(pool, LONDON, referral_id, AssignIn(assignee=LONDON.sub))
    with pytest.raises(domain.NotAllowed, match="not an adviser of this NCS area"):
        await queries.assign(pool, ASHA, referral_id, AssignIn(assignee=LONDON.sub))
    assert (await queries.get_referral(pool, ASHA, referral_id))["assigned_to"] is None


async def test_bulk_assignment_is_all_or_none(pool):
    first, second = await _referral(pool), await _referral(pool)
    london = f.referral_requested(area_la="202")  # Camden: London
    async with pool.acquire() as conn, conn.transaction():
        await handlers.on_referral_requested(conn, london)
    with pytest.raises(domain.NotFound):
        await queries.assign_many(pool, ASHA, BulkAssignIn(referral_ids=[first, london.referral_id], assignee=ASHA.sub))
    assert await _mine(pool, ASHA) == []
    done = await queries.assign_many(pool, ASHA, BulkAssignIn(referral_ids=[first, second], assignee=ASHA.sub))
    assert done["assigned"] == 2 and sorted(await _mine(pool, ASHA)) == sorted([str(first), str(second)])


async def test_claiming_assigns_to_the_claimer_and_reassigning_passes_the_claim(pool):
    referral_id = await _referral(pool)
    claimed = await queries.claim(pool, ASHA, referral_id)
    assert (claimed["assigned_to"], claimed["assigned_name"]) == (ASHA.sub, "Asha Adviser")
    with pytest.raises(domain.NotAllowed, match="stays with an adviser"):
        await queries.assign(pool, ASHA, referral_id, AssignIn(assignee=None))
    moved = await queries.assign(pool, ASHA, referral_id, AssignIn(assignee=BEN.sub))
    assert (moved["claimed_by"], moved["claimed_by_name"], moved["status"]) == (BEN.sub, "Ben Adviser", "claimed")
    with pytest.raises(domain.NotAllowed, match="another adviser"):
        await queries.record_contact(pool, ASHA, referral_id, ContactIn(method="phone", outcome="no_answer"))
    await queries.record_contact(pool, BEN, referral_id, ContactIn(method="phone", outcome="reached"))
    await queries.record_outcome(pool, BEN, referral_id, OutcomeIn(activity_code="310"))
    with pytest.raises(domain.NotAllowed, match="referral is closed"):
        await queries.assign(pool, BEN, referral_id, AssignIn(assignee=ASHA.sub))
    assert await _mine(pool, BEN) == [str(referral_id)]   # closed, still theirs in the list
