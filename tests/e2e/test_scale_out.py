"""Two replicas of each stream worker share the partitions and still give one case and one referral each."""
import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from tests.e2e.conftest import eventually
from tests.e2e.leavers import leaver


async def test_two_replicas_share_partitions_and_each_leaver_gets_exactly_one_case_and_referral(
        http, urls, tokens, infra, databases, stack):
    assert stack.worker_replicas == 2 and stack.alive("la_tracker", "worker-2")
    batch = [leaver() for _ in range(300)]
    r = await http.post(f"{urls['school_exit']}/v1/leavers/batch", json={"leavers": batch},
                        headers=tokens("school", laestab="8314001"), timeout=60)
    keys = [x["person_key"] for x in r.json()["results"]]
    la, ncs = await asyncpg.connect(databases["la_tracker"]), await asyncpg.connect(databases["ncs_referral"])
    try:
        async def all_referred():
            return await ncs.fetchval("select count(*) from referrals where person_key = any($1)", keys) >= 300
        await eventually(all_referred, timeout=60, interval=0.2)
        assert await la.fetchval("select count(*) from cases where person_key = any($1)", keys) == 300
        assert await ncs.fetchval("select count(*) from referrals where person_key = any($1)", keys) == 300
    finally:
        await la.close()
        await ncs.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups(["onward-la_tracker"])
    finally:
        await admin.close()
    members = response.groups[0][5]  # raw DescribeGroups: (error, group_id, state, protocol_type, protocol, members)
    assert len(members) == 2, "both la_tracker replicas are members of the one consumer group"
