"""school_exit's set-based feedback path leaves the same state as one event at a time."""
import json
import uuid

import asyncpg

from onward.settings import Settings
from schemas.events import CaseStatusChanged
from services.school_exit import handlers
from services.school_exit.wire import LeaverIn
from tests.e2e.leavers import leaver


async def _timelines(conn, ids):
    rows = await conn.fetch("select leaver_id, kind, detail from leaver_timeline where leaver_id = any($1)"
                            " and kind = 'case_status_changed' order by id", ids)
    return [(ids.index(r["leaver_id"]), r["kind"], r["detail"]) for r in rows]


async def test_batch_feedback_equals_one_event_at_a_time(databases):
    conn = await asyncpg.connect(databases["school_exit"])
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    # One transaction, rolled back: the e2e stack's relay and la_tracker share this database in a full run,
    # and would otherwise route these leavers and change their statuses while the test compares them.
    outer = conn.transaction()
    await outer.start()
    try:
        secret = Settings().person_key_secret.get_secret_value()
        async with conn.transaction():
            made = await handlers.register_leavers(conn, [LeaverIn.model_validate(leaver()) for _ in range(6)],
                                                   person_key_secret=secret, correlation_id=uuid.uuid4())
        ids = [m.leaver_id for m in made]
        one, many = ids[:3], ids[3:]

        def events(targets):
            out = []
            for status in ("not_known", "referred_to_ncs", "closed"):
                for k, leaver_id in enumerate(targets):
                    if status == "closed" and k == 1:
                        continue  # leaver 1 stays referred
                    out.append(CaseStatusChanged(producer="t", correlation_id=uuid.uuid4(), person_key="0" * 64,
                                                 case_id=uuid.uuid4(), leaver_id=leaver_id, responsible_la="831",
                                                 status=status, reason=f"r-{status}", activity_code=None))
            out.append(CaseStatusChanged(producer="t", correlation_id=uuid.uuid4(), person_key="0" * 64,
                                         case_id=uuid.uuid4(), leaver_id=uuid.uuid4(), responsible_la="831",
                                         status="closed", reason="unknown leaver", activity_code=None))
            return out
        async with conn.transaction():
            for e in events(one):
                await handlers.on_case_status_changed(conn, e)
        async with conn.transaction():
            assert await handlers.on_case_statuses_changed(conn, events(many)) == []
        status = {r["leaver_id"]: r["onward_status"] for r in await conn.fetch(
            "select leaver_id, onward_status from leavers where leaver_id = any($1)", ids)}
        assert [status[i] for i in one] == [status[i] for i in many] == ["closed", "referred_to_ncs", "closed"]
        assert await _timelines(conn, one) == await _timelines(conn, many)
        assert len(await _timelines(conn, one)) == 8
    finally:
        await outer.rollback()
        await conn.close()
