"""Changing an LA's routing policy: the LA manager's decision, audited with before and after values.

`consent_required` cannot be switched off: no published legal basis covers an LA-to-NCS referral of
an 18+ young person (docs/domain-rules.md section 4), so the NCS intake refuses a referral without consent. A
policy that referred without consent would send referrals the NCS then rejects, and the case would
say "referred" for ever; the API refuses it instead, with a 422 that says why.
"""
from __future__ import annotations

from fastapi import HTTPException, Request

from onward.auth import Principal
from services.la_tracker import store

POLICY_FIELDS = ("referral_delay_days", "confirmation_due_days", "consent_required", "contact_attempts",
                 "contact_min_days")
NO_LEGAL_BASIS = ("consent_required cannot be false: no legal basis covers referring a young person aged 18 or"
                  " over from the LA to the National Careers Service without their consent")


def may_change_policy(who: Principal) -> bool:
    """Only an LA manager (for their own LA) or an administrator changes routing policy."""
    return who.manager or who.role == "admin"


async def change(request: Request, who: Principal, la: str, body) -> dict:
    if not may_change_policy(who):
        raise HTTPException(403, "only an LA manager may change the LA's routing policy")
    if body.consent_required is False:
        raise HTTPException(422, [{"field": "consent_required", "message": NO_LEGAL_BASIS}])
    after = {k: getattr(body, k) for k in POLICY_FIELDS if hasattr(body, k)}
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        await conn.execute("select pg_advisory_xact_lock(hashtext('la_policy:' || $1))", la)
        before = vars(await store.policy_for(conn, la))
        after = {**before, **after}
        await conn.execute(
            "insert into la_policies (la, referral_delay_days, confirmation_due_days, consent_required,"
            " contact_attempts, contact_min_days) values ($1, $2, $3, $4, $5, $6) on conflict (la) do update set"
            " referral_delay_days = $2, confirmation_due_days = $3, consent_required = $4, contact_attempts = $5,"
            " contact_min_days = $6, updated_at = now()", la, *(after[k] for k in POLICY_FIELDS))
        await conn.execute("insert into policy_changes (la, changed_by, changed_by_name, before, after, changed_by_role)"
                           " values ($1, $2, $3, $4, $5, $6)", la, who.sub, who.name, before, after, who.claimed_role)
    return {"la": la, **after}


async def changes(conn, la: str, limit: int = 50) -> list[dict]:
    rows = await conn.fetch("select changed_by, changed_by_name, before, after, at from policy_changes"
                            " where la = $1 order by id desc limit $2", la, limit)
    return [{**dict(r), "at": r["at"].isoformat()} for r in rows]
