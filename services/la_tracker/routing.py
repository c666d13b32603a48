"""Routing a young person again after something changed (consent, activity, a merge undone, their own
answer): the decision is domain.route under their LA's policy, and apply_decision brings the case in
line with it. Every caller goes through `decide` or `reroute`, so the policy is always the LA's own."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

import asyncpg

from services.la_tracker import domain, store
from services.la_tracker.domain import Decision, YoungPerson
from services.la_tracker.handlers import apply_decision


async def decide(conn: asyncpg.Connection, leaver: YoungPerson, la: str, today: date) -> Decision:
    """What the LA does with this young person today under its routing policy (domain.route's rule)."""
    return domain.route(leaver, await store.policy_for(conn, la), today)


async def reroute(conn: asyncpg.Connection, cause, pkey: str, la: str, leaver: YoungPerson, today: date, *,
                  adjust: Callable[[Decision], Decision] | None = None, **options) -> Decision:
    """Decide again and apply the decision to the person's case in `la`. `adjust` changes the decision
    first (a young person's request for help refers at once); `options` go to apply_decision (e.g.
    `person`, the young person's row when the caller has it fresh)."""
    decision = await decide(conn, leaver, la, today)
    if adjust is not None:
        decision = adjust(decision)
    await apply_decision(conn, cause, pkey, la, decision, today=today, **options)
    return decision
