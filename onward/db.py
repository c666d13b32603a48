"""asyncpg pools and plain-SQL migrations (numbered files, applied once, under an advisory lock)."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

PLUMBING_MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 7_362_001  # any constant: serialises concurrent migrators of one database


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


# Every statement here is short OLTP work. Parallel query forks workers for a plan that costs a few
# milliseconds: measured on la_tracker's batch matching query (110 reports, 20k people), 12 ms with
# workers against 2 ms without, idle, and 55 ms on average with them under a benchmark's load.
# JIT compiles for seconds-long queries only; off so a cost misestimate cannot trigger it.
OLTP_SETTINGS = {"max_parallel_workers_per_gather": "0", "jit": "off"}


async def create_pool(url: str, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(url, min_size=1, max_size=max_size, init=_init_connection, command_timeout=60,
                                     server_settings=OLTP_SETTINGS)


async def connect(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url, server_settings=OLTP_SETTINGS)
    await _init_connection(conn)
    return conn


async def insert_rows(conn: asyncpg.Connection, table: str, columns: dict[str, str], rows: list[tuple],
                      suffix: str = "") -> None:
    """Insert many rows in one statement: one array parameter per column (`columns`: name -> SQL type),
    unnested server-side in the rows' order. Against `executemany` this runs the statement (and any
    statement-level trigger) once per batch instead of once per row."""
    if not rows:
        return
    names = ", ".join(columns)
    arrays = ", ".join(f"${i}::{kind}[]" for i, kind in enumerate(columns.values(), 1))
    await conn.execute(f"insert into {table} ({names}) select * from unnest({arrays}) {suffix}",
                       *(list(values) for values in zip(*rows)))


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def local_server_url(pg_dir: Path, port: int) -> str:
    """The superuser URL of a cluster started by deploy/local/postgres.sh (its password is in the
    cluster directory's `password` file)."""
    password = (Path(pg_dir) / "password").read_text().strip()
    return f"postgresql://postgres:{quote(password, safe='')}@127.0.0.1:{port}/postgres"


def service_url(server_url: str, database: str) -> str:
    """The URL a service uses: its own role (named like its database), whose password is derived from
    the administrator's, so `prepare` and the processes it starts agree without storing it."""
    parts = urlsplit(server_url)
    password = hmac.new((parts.password or "").encode(), f"onward-role:{database}".encode(), hashlib.sha256).hexdigest()
    host = parts.hostname if ":" not in (parts.hostname or "") else f"[{parts.hostname}]"
    netloc = f"{quote(database, safe='')}:{password}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc, path="/" + database))


async def ensure_service_database(server_url: str, database: str) -> str:
    """Least privilege: a login role named like the database (not a superuser, no CREATEDB or
    CREATEROLE), owning the database and everything in it; no other role may connect to it.
    Databases made before this (owned by the administrator) are handed over. Returns the role's URL."""
    url = service_url(server_url, database)
    password = urlsplit(url).password
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        async with conn.transaction():
            await conn.execute("select pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            # An existing role keeps its password: an operator may have set their own.
            if not await conn.fetchval("select 1 from pg_roles where rolname = $1", database):
                await conn.execute(f"create role \"{database}\" login nosuperuser nocreatedb nocreaterole"
                                   f" password '{password}'")
        await ensure_database(server_url, database)
        await conn.execute(f'alter database "{database}" owner to "{database}"')
        await conn.execute(f'revoke all on database "{database}" from public')
    finally:
        await conn.close()
    await _hand_over(with_database(server_url, database), database)
    return url


async def _hand_over(admin_db_url: str, role: str) -> None:
    """Tables and functions another role made in the database (an older `prepare`) go to `role`."""
    conn = await asyncpg.connect(admin_db_url)
    try:
        await conn.execute(f"""do $$ declare r record; begin
            for r in select format('alter table %I.%I owner to %I', schemaname, tablename, '{role}') s
                     from pg_tables where schemaname = 'public' and tableowner <> '{role}' loop execute r.s; end loop;
            for r in select format('alter function %s owner to %I', p.oid::regprocedure, '{role}') s
                     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                     where n.nspname = 'public' and pg_get_userbyid(p.proowner) <> '{role}' loop execute r.s; end loop;
            end $$""")
    finally:
        await conn.close()


async def drop_service_database(server_url: str, database: str) -> None:
    await drop_database(server_url, database)
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        await conn.execute(f'drop role if exists "{database}"')
    finally:
        await conn.close()


async def ensure_database(server_url: str, database: str) -> str:
    """Create the database if it does not exist; return its URL."""
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        exists = await conn.fetchval("select 1 from pg_database where datname = $1", database)
        if not exists:
            try:
                await conn.execute(f'create database "{database}"')
            except asyncpg.DuplicateDatabaseError:
                pass
    finally:
        await conn.close()
    return with_database(server_url, database)


async def drop_database(server_url: str, database: str) -> None:
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        await conn.execute(f'drop database if exists "{database}" with (force)')
    finally:
        await conn.close()


def _migration_files(service_dir: Path) -> list[tuple[str, Path]]:
    files = [(f"onward/{p.name}", p) for p in sorted(PLUMBING_MIGRATIONS.glob("*.sql"))]
    files += [(p.name, p) for p in sorted(service_dir.glob("*.sql"))]
    return files


class MigrationChanged(RuntimeError):
    """An applied migration's file differs from what was applied: refused (write a new migration instead)."""


def _checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


_HISTORY = ("create table if not exists schema_migrations (name text primary key,"
            " applied_at timestamptz not null default now());"
            " alter table schema_migrations add column if not exists checksum text")


async def migrate(url: str, service_migrations: Path) -> list[str]:
    """Apply the shared plumbing migrations, then the service's own, each once; return what ran.

    Re-runnable: applied files are skipped. Each applied file's SHA-256 is kept; an applied file that was
    edited since is refused (MigrationChanged) before anything runs. Rows from before checksums were
    kept take the current file's checksum once."""
    conn = await asyncpg.connect(url)
    applied: list[str] = []
    try:
        await conn.execute("select pg_advisory_lock($1)", _MIGRATION_LOCK)
        await conn.execute(_HISTORY)
        done = {r["name"]: r["checksum"] for r in await conn.fetch("select name, checksum from schema_migrations")}
        files = _migration_files(service_migrations)
        changed = [name for name, path in files if done.get(name) and done[name] != _checksum(path)]
        if changed:
            raise MigrationChanged(f"applied migrations were edited since: {', '.join(changed)}")
        for name, path in files:
            if name in done:
                if done[name] is None:
                    await conn.execute("update schema_migrations set checksum = $2 where name = $1", name, _checksum(path))
                continue
            async with conn.transaction():
                await conn.execute(path.read_text())
                await conn.execute("insert into schema_migrations (name, checksum) values ($1, $2)", name, _checksum(path))
            applied.append(name)
        await conn.execute("select pg_advisory_unlock($1)", _MIGRATION_LOCK)
    finally:
        await conn.close()
    return applied


async def pending_migrations(url: str, service_migrations: Path) -> list[str]:
    """Migrations of this code not (or not identically) applied to the database at `url`."""
    conn = await asyncpg.connect(url)
    try:
        if not await conn.fetchval("select to_regclass('schema_migrations') is not null"):
            return [name for name, _ in _migration_files(service_migrations)]
        cols = await conn.fetchval("select count(*) from information_schema.columns"
                                   " where table_name = 'schema_migrations' and column_name = 'checksum'")
        rows = await conn.fetch("select name, " + ("checksum" if cols else "null as checksum") + " from schema_migrations")
    finally:
        await conn.close()
    done = {r["name"]: r["checksum"] for r in rows}
    return [name for name, path in _migration_files(service_migrations)
            if name not in done or done[name] not in (None, _checksum(path))]


async def wait_for_schema(url: str, service_migrations: Path, interval: float = 2.0) -> None:
    """Return once the database has every migration of this code: a worker checks this before it joins
    its consumer group, so a new version never consumes against an old schema (the prepare step migrates)."""
    import logging

    log = logging.getLogger(__name__)
    while True:
        try:
            missing = await pending_migrations(url, service_migrations)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            missing = [f"database not reachable ({type(exc).__name__})"]
        if not missing:
            return
        log.warning("schema not current; waiting for migrations", extra={"pending": missing})
        await asyncio.sleep(interval)
