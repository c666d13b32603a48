"""Retention: how long each kind of record is kept, and the purge that enforces it (hourly in each
service's worker, `ONWARD_PURGE_INTERVAL_SECONDS`; and `onward purge <service>`). docs/operations.md lists the policy.

Shared tables: published outbox rows (their payloads are personal data) 7 days, which is Kafka's
retention too; processed-event ids 30 days (no redelivery can come later than the topic keeps it);
erasure markers 90 days (they only need to outlive the records a replay could bring back); the
audit log of reads 2 years. Each service adds its own records (services/*/retention.py).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

Purge = Callable[[asyncpg.Connection, datetime], Awaitable[int]]


@dataclass(frozen=True)
class Rule:
    record: str
    days: int
    sql: str | Purge  # deletes what is older than $1 (the cut-off time); or a function doing it


async def deleted(conn: asyncpg.Connection, sql: str, *args) -> int:
    return int((await conn.execute(sql, *args)).split()[-1])


SHARED = (
    Rule("outbox rows, once published", 7, "delete from outbox where published_at < $1"),
    Rule("processed event ids", 30, "delete from processed_events where processed_at < $1"),
    Rule("erasure markers", 90, "delete from erased_people where erased_at < $1"),
    Rule("audit log of reads", 730, "delete from audit_log where at < $1"),
)


async def purge(conn: asyncpg.Connection, rules: tuple[Rule, ...], now: datetime) -> dict[str, int]:
    """Apply every rule in one transaction; return how many records each removed."""
    removed = {}
    async with conn.transaction():
        for rule in (*SHARED, *rules):
            cutoff = now - timedelta(days=rule.days)
            removed[rule.record] = (await deleted(conn, rule.sql, cutoff) if isinstance(rule.sql, str)
                                    else await rule.sql(conn, cutoff))
    return removed
