"""process_once against real PostgreSQL: the same event twice has one effect."""
import uuid
from datetime import date

import pytest

from onward.consumer import process_once
from onward.db import connect, create_pool
from schemas.events import LeaverRegistered


def _event() -> LeaverRegistered:
    return LeaverRegistered(producer="test", correlation_id=uuid.uuid4(), person_key="b" * 64, leaver_id=uuid.uuid4(),
                            upn="H801200001001", given_name="A", family_name="B", date_of_birth=date(2008, 1, 1),
                            home_postcode="DE1 2AA", school_laestab="8314001", nc_year=13, leaving_date=date(2026, 7, 1))


@pytest.fixture
async def pool(databases):
    pool = await create_pool(databases["ncs_referral"], 4)
    await pool.execute("create table if not exists test_effects (event_id uuid, n int)")
    yield pool
    await pool.close()


async def _effect(conn, event):
    await conn.execute("insert into test_effects values ($1, 1)", event.event_id)


async def test_same_event_twice_has_one_effect(pool):
    ev = _event()
    assert await process_once(pool, "test", ev, _effect) is True
    assert await process_once(pool, "test", ev, _effect) is False
    assert await pool.fetchval("select count(*) from test_effects where event_id = $1", ev.event_id) == 1


async def test_another_consumer_processes_the_same_event_independently(pool):
    ev = _event()
    await process_once(pool, "test-a", ev, _effect)
    await process_once(pool, "test-b", ev, _effect)
    assert await pool.fetchval("select count(*) from test_effects where event_id = $1", ev.event_id) == 2


async def test_failed_effect_leaves_the_event_unprocessed_so_redelivery_applies_it(pool):
    ev = _event()

    async def failing(conn, event):
        await _effect(conn, event)
        raise ConnectionResetError("database went away mid-effect")

    with pytest.raises(ConnectionResetError):
        await process_once(pool, "test", ev, failing)
    assert await pool.fetchval("select count(*) from test_effects where event_id = $1", ev.event_id) == 0
    assert await process_once(pool, "test", ev, _effect) is True
    assert await pool.fetchval("select count(*) from test_effects where event_id = $1", ev.event_id) == 1


@pytest.mark.parametrize("sql", [
    "insert into table_from_a_later_migration values ($1)",  # the deploy's migration has not run yet
    "set local role onward_test_no_grants; insert into test_effects values ($1, 1)",  # a grant the role lacks
])
async def test_a_missing_table_or_grant_is_retried_not_dead_lettered(infra, pool, sql):
    """process_batch returns failures for the DLQ and raises what the caller retries: a table or grant missing
    during a deploy is the operator's to fix, so its events wait rather than go to the DLQ."""
    from onward.consumer import TRANSIENT_ERRORS, process_batch

    async def effect(conn, event):
        for statement in sql.split("; "):
            await conn.execute(statement, *([event.event_id] if "$1" in statement else []))
    # Services connect as their own non-superuser role: an administrator makes the grant-less role and lets
    # the service's role act as it.
    admin = await connect(infra.pg_server)
    try:
        await admin.execute("do $$ begin create role onward_test_no_grants; exception when duplicate_object then null;"
                            " end $$")
        await admin.execute(f'grant onward_test_no_grants to "{await pool.fetchval("select current_user")}"')
    finally:
        await admin.close()
    ev = _event()
    with pytest.raises(TRANSIENT_ERRORS):
        await process_batch(pool, "test-missing", [ev], effect)
    assert await pool.fetchval("select count(*) from processed_events where event_id = $1", ev.event_id) == 0
