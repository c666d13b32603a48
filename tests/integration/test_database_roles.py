"""Least privilege in PostgreSQL (issue 19, item 9): each service connects as its own role, which is
no superuser, owns its database and everything in it, and cannot open another service's database; the
local cluster wants a password (SCRAM), not `trust`."""
from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from onward.db import drop_service_database, ensure_database, ensure_service_database, migrate, with_database
from onward.processes import SERVICES


async def test_each_service_connects_as_its_own_role_owning_only_its_database(databases):
    for name, url in databases.items():
        conn = await asyncpg.connect(url)
        try:
            me = await conn.fetchrow("select current_user, rolsuper, rolcreatedb, rolcreaterole from pg_roles"
                                     " where rolname = current_user")
            assert me["current_user"] == urlsplit(url).path.lstrip("/")
            assert not (me["rolsuper"] or me["rolcreatedb"] or me["rolcreaterole"])
            owner = await conn.fetchval("select pg_get_userbyid(datdba) from pg_database where datname = current_database()")
            assert owner == me["current_user"]
            foreign = await conn.fetch("select tablename from pg_tables where schemaname = 'public'"
                                       " and tableowner <> current_user")
            assert not foreign, f"{name}: tables owned by another role: {[r[0] for r in foreign]}"
        finally:
            await conn.close()
        for other, other_url in databases.items():
            if other != name:
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await asyncpg.connect(with_database(url, urlsplit(other_url).path.lstrip("/")))


async def test_a_service_role_cannot_read_another_services_tables_nor_make_roles(databases):
    conn = await asyncpg.connect(databases["ncs_referral"])
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("create role intruder")
    finally:
        await conn.close()


async def test_the_local_cluster_refuses_a_connection_without_the_password(infra):
    if infra.source != "local":
        pytest.skip("only the project's own cluster (deploy/local/postgres.sh) is set up here")
    parts = urlsplit(infra.pg_server)
    anonymous = urlunsplit(parts._replace(netloc=f"postgres@{parts.hostname}:{parts.port}"))
    with pytest.raises((asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)):
        await asyncpg.connect(anonymous)
    wrong = urlunsplit(parts._replace(netloc=f"postgres:not-the-password@{parts.hostname}:{parts.port}"))
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(wrong)


async def test_a_database_made_before_roles_is_handed_over_to_the_services_role(infra):
    """`make up` on a checkout whose databases the administrator owns (made by an older `prepare`)."""
    name = f"h{uuid.uuid4().hex[:8]}_la_tracker"
    await migrate(await ensure_database(infra.pg_server, name), SERVICES["la_tracker"].migrations)
    try:
        url = await ensure_service_database(infra.pg_server, name)
        assert not await migrate(url, SERVICES["la_tracker"].migrations)  # nothing left to apply
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("select count(*) from pg_tables where schemaname = 'public'"
                                       " and tableowner <> current_user") == 0
            await conn.execute("insert into audit_log (actor_sub, actor_role, action, object_type, object_id, fields)"
                               " values ('t', 'admin', 'read', 'case', 'x', '{}')")
        finally:
            await conn.close()
    finally:
        await drop_service_database(infra.pg_server, name)
