"""Migrations against real PostgreSQL: re-runnable, checksummed (an edited applied file is refused),
and the schema check a worker makes before it joins its consumer group."""
import uuid

import pytest

from onward.db import MigrationChanged, connect, drop_database, ensure_database, migrate, pending_migrations


@pytest.fixture
async def database(infra):
    name = f"migrate_{uuid.uuid4().hex[:8]}"
    yield await ensure_database(infra.pg_server, name)
    await drop_database(infra.pg_server, name)


async def test_migrate_is_rerunnable_and_refuses_an_edited_applied_migration(database, tmp_path):
    (tmp_path / "001_things.sql").write_text("create table things (id int primary key);")
    first = await migrate(database, tmp_path)
    assert "001_things.sql" in first and "onward/001_outbox_and_inbox.sql" in first
    assert await migrate(database, tmp_path) == []  # applied once: a second run (a re-applied Job) does nothing
    assert await pending_migrations(database, tmp_path) == []

    (tmp_path / "002_more.sql").write_text("create table more_things (id int primary key);")
    assert await pending_migrations(database, tmp_path) == ["002_more.sql"]
    (tmp_path / "001_things.sql").write_text("create table things (id bigint primary key);")  # edited after applying
    with pytest.raises(MigrationChanged, match="001_things.sql"):
        await migrate(database, tmp_path)
    conn = await connect(database)
    try:  # refused before anything ran: the new migration was not applied either
        assert await conn.fetchval("select to_regclass('more_things')") is None
    finally:
        await conn.close()
    assert "001_things.sql" in await pending_migrations(database, tmp_path)  # a worker would wait, not consume


async def test_history_from_before_checksums_is_adopted_once(database, tmp_path):
    (tmp_path / "001_things.sql").write_text("create table things (id int primary key);")
    await migrate(database, tmp_path)
    conn = await connect(database)
    try:
        await conn.execute("update schema_migrations set checksum = null")  # as written by the previous version
    finally:
        await conn.close()
    assert await migrate(database, tmp_path) == []
    (tmp_path / "001_things.sql").write_text("create table things (id bigint primary key);")
    with pytest.raises(MigrationChanged):
        await migrate(database, tmp_path)
