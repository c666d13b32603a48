"""ncs_referral keeps a finished referral (closed, withdrawn or returned to the LA) for 1 year after it
finished, for service reporting and complaints; open referrals are kept while they are worked."""
from onward.retention import Rule, deleted

_OLD = ("select referral_id from referrals where status in ('closed', 'withdrawn', 'returned_to_la')"
        " and updated_at < $1")


async def _finished(conn, cutoff) -> int:
    await conn.execute(f"delete from referral_timeline where referral_id in ({_OLD})", cutoff)
    return await deleted(conn, f"delete from referrals where referral_id in ({_OLD})", cutoff)


RULES = (Rule("finished referrals, 1 year after", 365, _finished),)
