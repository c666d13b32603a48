"""What LA staff ask of la_tracker (services/la_tracker/queries*.py, policy.py and the store functions
they call), on a real PostgreSQL: each LA sees its own cases only, the counts, reasons and "My cases"
figure are the LA's, the queue metrics leave closed cases out, and a policy change is recorded with
its values before and after."""
from __future__ import annotations

import pytest
from fastapi import HTTPException

from onward.auth import Principal
from services.la_tracker import casework, policy, queries, staff, store
from services.la_tracker.wire import PolicyIn
from tests import factories as f

DERBY_OFFICER = Principal(sub="officer-d", role="la_staff", la=f.DERBY, name="Dee Officer")
NOTTINGHAM = "892"
NOTTINGHAM_OFFICER = Principal(sub="officer-n", role="la_staff", la=NOTTINGHAM)
MANAGER = Principal(sub="manager-d", role="la_staff", la=f.DERBY, name="Dana Manager", manager=True)


@pytest.fixture
async def pool(infra):
    async with f.fresh_database(infra, "la_tracker") as pool:
        yield pool


async def test_each_la_lists_counts_and_opens_only_its_own_cases(pool):
    derby = await f.reported(pool, f.leaver(consent=False))
    closed = await f.reported(pool, f.leaver(consent=False))
    nottingham = await f.reported(pool, f.leaver(consent=False, postcode="NG1 1AA"))
    assert nottingham["responsible_la"] == NOTTINGHAM
    async with pool.acquire() as conn, conn.transaction():
        await store.update_case(conn, closed["case_id"], status="closed", reason="destination_confirmed")
        await casework.seen(conn, DERBY_OFFICER)
        await casework.assign(conn, await store.get_case(conn, derby["case_id"], for_update=True), DERBY_OFFICER,
                              DERBY_OFFICER.sub)

    listed = await queries.list_cases(pool, DERBY_OFFICER, status="open")
    assert [c["case_id"] for c in listed["items"]] == [str(derby["case_id"])]
    assert listed["counts"] == {"not_known": 1, "closed": 1}
    assert (await queries.list_cases(pool, NOTTINGHAM_OFFICER))["counts"] == {"not_known": 1}
    with pytest.raises(HTTPException) as other_la:
        await queries.get_case(pool, nottingham["case_id"], DERBY_OFFICER)
    assert other_la.value.status_code == 404
    async with pool.acquire() as conn:
        assert await store.reasons_in_use(conn, f.DERBY) == ["destination_confirmed", "no_consent"]
        assert await store.reasons_in_use(conn, NOTTINGHAM) == ["no_consent"]
        assert await store.open_cases_assigned(conn, DERBY_OFFICER.sub) == 1
        ages = {(r["responsible_la"], r["status"]): r["n"] for r in await store.open_case_ages(conn)}
    assert ages == {(f.DERBY, "not_known"): 1, (NOTTINGHAM, "not_known"): 1}   # the closed case is not open


async def test_a_task_of_another_la_is_not_found_and_ones_own_is_done_once(pool):
    case = await f.reported(pool, f.leaver(consent=False))
    async with pool.acquire() as conn, conn.transaction():
        task_id = await casework.add_task(conn, case, DERBY_OFFICER, f.TODAY, "Ring back after college")
    with pytest.raises(HTTPException) as other_la:
        await queries.complete_task(pool, task_id, NOTTINGHAM_OFFICER)
    assert other_la.value.status_code == 404
    assert await queries.complete_task(pool, task_id, DERBY_OFFICER) == {"task_id": str(task_id), "done": True}
    with pytest.raises(HTTPException) as again:
        await queries.complete_task(pool, task_id, DERBY_OFFICER)
    assert again.value.status_code == 409


async def test_a_policy_change_is_recorded_with_who_and_the_values_before_and_after(pool):
    async with pool.acquire() as conn:
        before = vars(await store.policy_for(conn, f.DERBY))
    after = await policy.change(pool, MANAGER, f.DERBY, PolicyIn(referral_delay_days=14, contact_attempts=4))
    with pytest.raises(HTTPException) as officer:
        await policy.change(pool, DERBY_OFFICER, f.DERBY, PolicyIn(referral_delay_days=1))
    async with pool.acquire() as conn:
        now = await store.policy_for(conn, f.DERBY)
        [change] = await policy.changes(conn, f.DERBY)
        others = await store.policies_for(conn, [NOTTINGHAM])
    assert officer.value.status_code == 403
    assert (now.referral_delay_days, now.contact_attempts, after["referral_delay_days"]) == (14, 4, 14)
    assert (change["changed_by"], change["changed_by_name"]) == (MANAGER.sub, MANAGER.name)
    assert change["changed_by_role"] == "la_manager"
    assert (change["before"], change["after"]["referral_delay_days"]) == (before, 14)
    assert others[NOTTINGHAM] == store.Policy()   # an LA that set nothing has the national defaults


async def test_staff_see_a_referral_as_under_way_only_while_la_tracker_has_it_requested(pool):
    case = await f.reported(pool, f.leaver())
    assert case["referral_status"] == "requested"
    async with pool.acquire() as conn, conn.transaction():
        with pytest.raises(staff.NotAllowed, match="already under way"):
            await staff.refer(conn, await store.get_case(conn, case["case_id"], for_update=True), DERBY_OFFICER)
