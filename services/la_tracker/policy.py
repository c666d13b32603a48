"""Changing an LA's routing policy: the LA manager's decision, audited with before and after values.

`consent_required` cannot be switched off: no published legal basis covers an LA-to-NCS referral of
an 18+ young person (docs/domain-rules.md section 4), so the NCS intake refuses a referral without consent. A
policy that referred without consent would send referrals the NCS then rejects, and the case would
say "referred" for ever; the API refuses it instead, with a 422 that says why.
"""
from __future__ import annotations

from fastapi import HTTPException

from onward.auth import Principal
from services.la_tracker import store

NO_LEGAL_BASIS = ("consent_required cannot be false: no legal basis covers referring a young person aged 18 or"
                  " over from the LA to the National Careers Service without their consent")


def may_change_policy(who: Principal) -> bool:
    """Only an LA manager (for their own LA) or an administrator changes routing policy."""
    return who.manager or who.role == "admin"


async def change(pool, who: Principal, la: str, body) -> dict:
    """The LA's new routing numbers (those `body` gives), with who changed them from what."""
    if not may_change_policy(who):
        raise HTTPException(403, "only an LA manager may change the LA's routing policy")
    if body.consent_required is False:
        raise HTTPException(422, [{"field": "consent_required", "message": NO_LEGAL_BASIS}])
    after = {k: getattr(body, k) for k in store.POLICY_FIELDS if hasattr(body, k)}
    async with pool.acquire() as conn, conn.transaction():
        await store.lock_policy(conn, la)
        before = vars(await store.policy_for(conn, la))
        after = {**before, **after}
        await store.save_policy(conn, la, after, sub=who.sub, name=who.name, before=before,
                               role=who.claimed_role)
    return {"la": la, **after}


async def changes(conn, la: str, limit: int = 50) -> list[dict]:
    return [{**dict(r), "at": r["at"].isoformat()} for r in await store.policy_changes(conn, la, limit)]
