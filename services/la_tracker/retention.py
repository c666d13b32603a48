"""la_tracker keeps a young person while the LA may track them: NCCIS covers academic ages 16-18 and up
to 25 with an EHC plan. A record is deleted (with its cases, timeline, jobs and reviews) once the
person is over 20 (over 26 with an EHC plan) and has no open case."""
from onward.retention import Rule
from services.la_tracker import store, store_you


async def _past_tracking_age(conn, today) -> int:
    keys = [r["person_key"] for r in await conn.fetch(
        "select person_key from young_people p where (facts->>'date_of_birth')::date"
        " < $1::date - make_interval(years => case when (facts->>'ehcp')::boolean then 26 else 20 end)"
        " and not exists (select 1 from cases c where c.person_key = p.person_key"
        " and c.status not in ('closed', 'transferred'))", today)]
    if keys:
        await store_you.erase(conn, keys)  # their answers, links and outreach (issue 17)
        await store.erase_people(conn, keys)
    return len(keys)


# days=0: the cut-off is now; the age test is in the query.
RULES = (Rule("young people past tracking age with no open case", 0, _past_tracking_age),
         Rule("links to the young person's pages, 90 days after they expired", 90,
              "delete from you_links where expires_at < $1"),
         Rule("messages to young people, 90 days after they were sent or given up", 90,
              "delete from you_messages where status in ('sent', 'failed', 'cancelled')"
              " and coalesce(last_attempt_at, queued_at) < $1"))
