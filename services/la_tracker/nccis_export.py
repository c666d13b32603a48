"""Use case: an LA's NCCIS return for a period, as at its period end, and the check of it before sending.

The period is the calendar month ending on PeriodEnd: young people who transferred out, merged or
left the cohort by age during it appear once with T, M or A; everyone else in the LA's statutory
cohort on PeriodEnd appears with P. Only history recorded on or before PeriodEnd counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg

from onward.la_data import local_authorities
from services.la_tracker import activity_history, nccis_ids, nccis_return, nccis_rules, store_nccis
from services.la_tracker.nccis_return import Record


@dataclass(frozen=True)
class Return:
    la: str
    database: str
    period_end: date
    records: list[Record]

    def xml(self, sent: date) -> bytes:
        return nccis_return.to_xml(self.records, database=self.database, la=self.la, period_end=self.period_end,
                                   sent=sent)


def period_start(period_end: date) -> date:
    return period_end.replace(day=1)


def assemble(people, activities: dict, las: dict, merged: dict, *, rules: dict[str, str], level_of_need: int,
             la: str, database: str, period_end: date) -> list[Record]:
    """The records of the return from each person's rows and histories (pure: the bench times this)."""
    start, records = period_start(period_end), []
    for person in people:
        key = person["person_key"]
        placement = activity_history.placement(person, las.get(key, []), la, start, period_end)
        activity = placement and activity_history.activity_as_at(activities.get(key, []), rules, period_end)
        if not activity:
            continue
        previous = nccis_ids.ypid(database, merged[key]) if key in merged and placement.status == "P" else ""
        row = {**dict(person), "lead_la": la}
        records.append(nccis_return.record(row, activity, placement, database=database, level_of_need=level_of_need,
                                           previous_ypid=previous))
    return records


async def build(conn: asyncpg.Connection, la: str, period_end: date, *, ids: dict[str, str], env: str) -> Return:
    people = await store_nccis.people_ever_with(conn, la, period_end)
    keys = [p["person_key"] for p in people]
    activities, las = await store_nccis.histories(conn, keys, period_end)
    merged = await store_nccis.merged_away(conn, keys, period_end)
    settings = await store_nccis.settings_for(conn, la)
    rules = await store_nccis.currency_table(conn, la)
    database = nccis_ids.database_id(ids, la, env)
    records = assemble(people, activities, las, merged, rules=rules, level_of_need=settings["level_of_need_default"],
                       la=la, database=database, period_end=period_end)
    return Return(la, database, period_end, records)


async def check(conn: asyncpg.Connection, ret: Return, sent: date) -> dict:
    """The MIR rules over the file itself; each breach names its rule, priority, young person and case."""
    breaches = nccis_rules.check(ret.xml(sent), frozenset(local_authorities()))
    by_ypid = {r.fields["YoungPersonsID"]: r for r in ret.records}
    cases = await store_nccis.cases_by_person(conn, [r.person_key for r in ret.records], ret.la)
    items = []
    for b in sorted(breaches, key=lambda b: (b.priority or -1, b.rule, b.ypid)):
        record = by_ypid.get(b.ypid)
        items.append({"rule": b.rule, "priority": b.priority or "file", "message": b.message, "ypid": b.ypid,
                      "name": f"{record.fields['GivenName']} {record.fields['FamilyName']}" if record else "",
                      "case_id": cases.get(record.person_key) if record else None})
    return {"la": ret.la, "database_id": ret.database, "period_end": ret.period_end.isoformat(),
            "records": len(ret.records), "counts": nccis_rules.counts(breaches), "breaches": items}
