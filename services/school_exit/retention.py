"""school_exit keeps a leaver report for 2 years after the leaving date: long enough for the school to
see what happened next and for the DfE destination measures; then it is deleted."""
from onward.retention import Rule, deleted


async def _old_reports(conn, cutoff) -> int:
    await conn.execute("delete from leaver_timeline where leaver_id in (select leaver_id from leavers"
                       " where leaving_date < $1::date)", cutoff)
    return await deleted(conn, "delete from leavers where leaving_date < $1::date", cutoff)


RULES = (Rule("leaver reports, 2 years after leaving", 730, _old_reports),)
