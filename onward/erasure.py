"""What every service does when it erases a young person: forget their outbox payloads, and remember
the pseudonymous keys so a replayed older event cannot bring the data back."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg


async def forget(conn: asyncpg.Connection, person_keys: list[str], erasure_id: UUID) -> None:
    # Outbox payloads hold the personal data of events already published (or about to be): drop them.
    await conn.execute("delete from outbox where key = any($1::bytea[])", [k.encode() for k in person_keys])
    await conn.executemany("insert into erased_people (person_key, erasure_id) values ($1, $2)"
                           " on conflict (person_key) do nothing", [(k, erasure_id) for k in person_keys])


async def erased_since(conn: asyncpg.Connection, person_key: str, occurred_at: datetime) -> bool:
    """True when the person was erased after this event happened: the event must not restore them."""
    at = await conn.fetchval("select erased_at from erased_people where person_key = $1", person_key)
    return at is not None and occurred_at <= at
