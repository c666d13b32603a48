"""Record every read of personal data: who, when, which object, which fields."""
from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from onward.auth import Principal


async def record_read(conn: asyncpg.Connection | asyncpg.Pool, who: Principal, object_type: str,
                      object_ids: Iterable[str], fields: Iterable[str], action: str = "read") -> None:
    """The role is the one the token states (`la_manager` for a manager), not the scoping role."""
    fields = sorted(fields)
    await conn.executemany(
        "insert into audit_log (actor_sub, actor_role, action, object_type, object_id, fields)"
        " values ($1, $2, $3, $4, $5, $6)",
        [(who.sub, who.claimed_role, action, object_type, str(oid), fields) for oid in object_ids],
    )
