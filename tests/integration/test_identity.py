"""Identity (docs/domain-rules.md, rule 5.8): who is the same young person, on real PostgreSQL, through both
la_tracker paths (one report at a time, and the set-based path for new young people).

Twins share family name, DOB, postcode and address; they are two people: two cases, two referrals,
and erasing one leaves the other whole.
"""
from __future__ import annotations

import json
import random
import uuid
from datetime import date

import httpx
import pytest

from bench.expected import expected
from onward.auth import issue_token
from onward.cohort import cohort, make_temporary_upn, make_uln, make_upn
from onward.consumer import process_batch
from onward.db import create_pool, drop_database
from onward.person_key import person_key
from onward.settings import Settings
from schemas.events import DestinationReported, PersonErasureRequested
from services.la_tracker import batch, handlers, store
from services.la_tracker.api import build_app
from services.school_exit.handlers import _event
from services.school_exit.wire import LeaverIn
from tests.integration.test_la_batch import _conn, _fresh

TODAY = date(2026, 7, 25)
SECRET = Settings().person_key_secret.get_secret_value()
PATHS = ("one_by_one", "set_based")


def body(serial: int, **over) -> dict:
    """A Year 13 leaver in Derby with no destination and consent: routed straight to the NCS."""
    return {"upn": make_upn("831", serial), "uln": make_uln(random.Random(serial)), "given_name": "Amira",
            "family_name": "Okafor", "date_of_birth": "2007-11-03", "home_postcode": "DE1 2AA",
            "address_lines": ["1 Example Street"], "email": None, "phone": None, "school_laestab": "8314001",
            "nc_year": 13, "leaving_date": "2026-07-17", "destination": None,
            "send": {"ehcp": False, "sen_support": False}, "characteristics": [],
            "consent": {"share_with_ncs": True, "objects_to_sharing": False}} | over


def report(b: dict):
    leaver = LeaverIn.model_validate(b)
    return _event(leaver, uuid.uuid4(), person_key(SECRET, leaver.upn), 1, uuid.uuid4())


@pytest.fixture
async def db(infra):
    name = f"t{uuid.uuid4().hex[:8]}_la_identity"
    url = await _fresh(infra, name)
    async with _conn(url) as c:  # the national defaults here (test_la_batch's databases change two LAs')
        await c.execute("delete from la_policies")
    yield url
    await drop_database(infra.pg_server, name)


async def apply(url: str, reports: list, path: str = "one_by_one") -> None:
    if path == "one_by_one":
        async with _conn(url) as c:
            for r in reports:
                async with c.transaction():
                    await handlers.on_leaver_registered(c, r, today=TODAY)
        return
    pool = await create_pool(url, 2)
    try:
        _, failures = await process_batch(
            pool, "la_tracker", reports, lambda c, e: handlers.on_leaver_registered(c, e, today=TODAY),
            lambda c, es: batch.register_new_people(c, es, today=TODAY))
        assert not failures, failures
    finally:
        await pool.close()


async def rows(url: str, sql: str, *args) -> list[dict]:
    async with _conn(url) as c:
        return [dict(r) for r in await c.fetch(sql, *args)]


async def referrals(url: str) -> list[str]:
    """The person keys of the referral requests waiting in the outbox."""
    out = await rows(url, "select key, payload from outbox where topic = 'la-tracker.referral-requested.v1'")
    return [r["key"].decode() for r in out]


def twins(serial: int) -> tuple[dict, dict]:
    first = body(serial, given_name="Amira", address_lines=["7 Twin Row"], home_postcode="DE22 3QW")
    second = body(serial + 1, given_name="Zara", address_lines=["7 Twin Row"], home_postcode="DE22 3QW")
    return first, second


@pytest.mark.parametrize("path", PATHS)
async def test_twins_are_two_people_with_two_cases_and_two_ncs_referrals(db, path):
    first, second = (report(b) for b in twins(41000))
    await apply(db, [first, second], path)
    people = await rows(db, "select person_key, details from young_people where merged_into is null")
    assert {p["person_key"] for p in people} == {first.person_key, second.person_key}
    assert {p["details"]["given_name"] for p in people} == {"Amira", "Zara"}  # nobody's details overwritten
    cases = await rows(db, "select person_key, status from cases")
    assert sorted((c["person_key"], c["status"]) for c in cases) == sorted(
        [(first.person_key, "referred_to_ncs"), (second.person_key, "referred_to_ncs")])
    assert sorted(await referrals(db)) == sorted([first.person_key, second.person_key])
    assert await rows(db, "select * from person_aliases") == []
    assert await rows(db, "select * from review_queue") == []  # different UPNs and given names: not even a review


async def test_erasing_one_twin_leaves_the_other_whole(db):
    first, second = (report(b) for b in twins(42000))
    await apply(db, [first, second])
    before = await rows(db, "select c.case_id, c.status, count(t.id) n from cases c join case_timeline t using (case_id)"
                            " where c.person_key = $1 group by c.case_id, c.status", second.person_key)
    async with _conn(db) as c, c.transaction():
        await handlers.on_person_erasure_requested(c, PersonErasureRequested(
            producer="test", correlation_id=uuid.uuid4(), person_key=first.person_key, erasure_id=uuid.uuid4(),
            reason="subject_request"), today=TODAY)
    assert await rows(db, "select 1 from young_people where person_key = $1", first.person_key) == []
    [kept] = await rows(db, "select details from young_people where person_key = $1", second.person_key)
    assert kept["details"]["given_name"] == "Zara"
    after = await rows(db, "select c.case_id, c.status, count(t.id) n from cases c join case_timeline t using (case_id)"
                           " where c.person_key = $1 group by c.case_id, c.status", second.person_key)
    assert after == before and after
    assert await referrals(db) == [second.person_key]
    history = ("select person_key from activity_history where person_key = any($1)"
               " union all select person_key from la_history where person_key = any($1)")  # the as-at return's
    assert sorted(r["person_key"] for r in await rows(db, history, [first.person_key, second.person_key])) == [
        second.person_key] * 2


@pytest.mark.parametrize("path", PATHS)
async def test_temporary_upn_later_replaced_by_the_permanent_one_is_one_person(db, path):
    temporary = report(body(43000, upn=make_temporary_upn("831", 43000), uln=None))
    await apply(db, [temporary], path)
    permanent = report(body(43000, uln=None, school_laestab="8314002"))
    await apply(db, [permanent], path)
    [person] = await rows(db, "select person_key, upn from young_people")
    assert (person["person_key"], person["upn"]) == (temporary.person_key, permanent.upn)
    [alias] = await rows(db, "select alias_key, person_key, matched_by from person_aliases")
    assert (alias["alias_key"], alias["person_key"]) == (permanent.person_key, temporary.person_key)
    assert len(await rows(db, "select 1 from cases")) == 1
    assert len(await referrals(db)) == 1


@pytest.mark.parametrize("path", PATHS)
async def test_shared_uln_with_another_dob_goes_to_review_and_is_never_merged(db, path):
    first = report(body(44000))
    await apply(db, [first], path)
    other = report(body(44001, uln=first.uln, given_name="Kofi", date_of_birth="2008-01-09"))
    await apply(db, [other], path)
    people = await rows(db, "select person_key from young_people where merged_into is null")
    assert {p["person_key"] for p in people} == {first.person_key, other.person_key}
    assert await rows(db, "select * from person_aliases") == []
    [review] = await rows(db, "select person_key, candidate_key, reason from review_queue")
    assert (review["person_key"], review["candidate_key"], review["reason"]) == (
        other.person_key, first.person_key, "uln_shared_details_differ")
    assert len(await rows(db, "select 1 from cases")) == 2


@pytest.mark.parametrize("path", PATHS)
async def test_same_upn_with_other_names_changes_nothing_and_goes_to_review(db, path):
    first = report(body(45000))
    await apply(db, [first], path)
    [held] = await rows(db, "select details, facts, responsible_la from young_people")
    other = report(body(45000, given_name="Kofi", family_name="Mensah", school_laestab="8734001",
                        home_postcode="NW1 2DB", consent={"share_with_ncs": False, "objects_to_sharing": True}))
    await apply(db, [other], path)
    [after] = await rows(db, "select details, facts, responsible_la from young_people")
    assert after == held
    [case] = await rows(db, "select responsible_la, status, referral_status from cases")
    assert (case["responsible_la"], case["status"], case["referral_status"]) == ("831", "referred_to_ncs", "requested")
    [review] = await rows(db, "select person_key, candidate_key, reason, report from review_queue")
    assert (review["person_key"], review["candidate_key"], review["reason"]) == (
        first.person_key, None, "upn_details_differ")
    assert json.loads(review["report"]) if isinstance(review["report"], str) else review["report"]
    assert not await rows(db, "select 1 from outbox where topic = 'la-tracker.referral-withdrawn.v1'")
    # The held-back school then reports a job for "its" leaver: the young person's case stays as it was.
    async with _conn(db) as c, c.transaction():
        await handlers.on_destination_reported(c, DestinationReported(
            producer="test", correlation_id=uuid.uuid4(), person_key=other.person_key, leaver_id=other.leaver_id,
            school_laestab="8734001", destination={"activity_code": "310", "status": "confirmed"}), today=TODAY)
    [case] = await rows(db, "select status, referral_status from cases")
    assert (case["status"], case["referral_status"]) == ("referred_to_ncs", "requested")


async def test_another_schools_report_never_lowers_protection(db):
    first = report(body(46000, consent={"share_with_ncs": True, "objects_to_sharing": True}))
    await apply(db, [first])
    # Same young person (same UPN and facts) reported by another school, which says nothing of an objection.
    moved = report(body(46000, school_laestab="8314002", address_lines=["2 New Road"],
                        consent={"share_with_ncs": True, "objects_to_sharing": False}))
    await apply(db, [moved])
    [person] = await rows(db, "select details, facts from young_people")
    assert person["details"]["address_lines"] == ["2 New Road"]  # a newer address is recorded
    assert person["facts"]["objects_to_sharing"] is True        # the objection stands
    assert await referrals(db) == []


async def test_withdrawn_consent_from_another_school_stands(db):
    first = report(body(47000))
    await apply(db, [first])
    withdrawn = report(body(47000, school_laestab="8314002",
                            consent={"share_with_ncs": False, "objects_to_sharing": False}))
    again = report(body(47000, consent={"share_with_ncs": True, "objects_to_sharing": False}))
    await apply(db, [withdrawn, again])
    [person] = await rows(db, "select facts from young_people")
    assert person["facts"]["consent_to_ncs"] is False


@pytest.mark.parametrize("path", PATHS)
async def test_distinct_permanent_upns_are_always_distinct_people(db, path):
    """Property: N leavers with N distinct permanent UPNs give N people, whatever their names, birthdays
    and addresses (drawn from a few values, so that twins, namesakes and shared ULNs abound)."""
    rng = random.Random(2026)
    for round_no in range(4):
        n = rng.randrange(5, 40)
        serials = rng.sample(range(1, 9999), n)
        uln_pool = [make_uln(random.Random(k)) for k in range(3)]
        bodies = [body(round_no * 100000 + s, given_name=rng.choice(["Amira", "Zara", "amira"]),
                       family_name=rng.choice(["Okafor", "OKAFOR", "Nowak"]),
                       date_of_birth=rng.choice(["2007-11-03", "2007-11-04"]),
                       home_postcode=rng.choice(["DE1 2AA", "DE22 3QW", "NW1 2DB"]),
                       uln=rng.choice(uln_pool + [None]),
                       school_laestab=rng.choice(["8314001", "8314002", "2024001"])) for s in serials]
        reports = [report(b) for b in bodies]
        await apply(db, reports, path)
        people = await rows(db, "select count(*) n from young_people where merged_into is null and upn = any($1)",
                            [r.upn for r in reports])
        assert people[0]["n"] == n, f"round {round_no}: {n} UPNs gave {people[0]['n']} people"
        assert not await rows(db, "select 1 from person_aliases where alias_key = any($1)",
                              [r.person_key for r in reports])


async def test_a_cohort_with_twins_and_second_reports_loses_no_one_and_duplicates_no_one(db):
    """What `make chaos` checks end to end, here on la_tracker alone: twins are two people, a leaver
    reported twice by two schools is one; every expected case and referral once, no other."""
    leavers = cohort(600, seed=11, leaving=date(2026, 7, 17))
    upns = [lv["upn"] for lv in leavers]
    families = [(lv["family_name"], lv["date_of_birth"], lv["home_postcode"]) for lv in leavers]
    assert len(upns) - len(set(upns)) >= 2  # some reported twice
    assert sum(families.count(f) == 2 and upns.count(u) == 1 for f, u in zip(families, upns)) >= 4  # twins
    reports = [report(b) for b in leavers]
    for start in range(0, len(reports), 100):
        await apply(db, reports[start:start + 100], "set_based")
    want_case, want_ref = expected(leavers, TODAY)
    cases = {r["person_key"]: r["n"] for r in await rows(db, "select person_key, count(*) n from cases group by 1")}
    refs = {r["k"]: r["n"] for r in await rows(
        db, "select convert_from(key, 'utf8') k, count(*) n from outbox"
            " where topic = 'la-tracker.referral-requested.v1' group by 1")}
    keys = {r.person_key for r in reports}
    lost = sum(int(want and have == 0) for k in keys
               for have, want in ((cases.get(k, 0), k in want_case), (refs.get(k, 0), k in want_ref)))
    duplicates = sum(int(have > 1 or (have and not want)) for k in keys
                     for have, want in ((cases.get(k, 0), k in want_case), (refs.get(k, 0), k in want_ref)))
    assert (lost, duplicates) == (0, 0)
    [people] = await rows(db, "select count(*) n from young_people where merged_into is null")
    assert people["n"] == len(set(upns))


async def reviews_seen_by(url: str, la: str) -> list[dict]:
    """GET /v1/reviews as a member of `la`'s staff, through the la_tracker API on this database."""
    app = build_app(Settings(database_url=url))
    token = issue_token(Settings().jwt_secret.get_secret_value(), role="la_staff", la=la)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                                   base_url="http://t") as http:
        r = await http.get("/v1/reviews", params={"page_size": 100}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()["items"]


@pytest.mark.parametrize("path", PATHS)
async def test_a_near_identical_name_without_a_permanent_upn_is_a_review_for_the_la_and_never_a_merge(db, path):
    first = report(body(48000, given_name="Aidan", home_postcode="DE22 3QW"))
    await apply(db, [first], path)
    # Another school's report: a temporary UPN, no ULN, the given name one letter apart, the same DOB and postcode.
    near = report(body(48001, upn=make_temporary_upn("831", 48001), uln=None, given_name="Aiden",
                       home_postcode="DE22 3QW", school_laestab="8314002"))
    await apply(db, [report(body(48002, given_name="Zara", family_name="Nowak")), near], path)
    people = await rows(db, "select person_key, details from young_people where merged_into is null"
                            " and person_key = any($1)", [first.person_key, near.person_key])
    assert {(p["person_key"], p["details"]["given_name"]) for p in people} == {
        (first.person_key, "Aidan"), (near.person_key, "Aiden")}  # two people, nobody's details overwritten
    assert await rows(db, "select * from person_aliases") == []
    [review] = await rows(db, "select person_key, candidate_key, reason from review_queue")
    assert (review["person_key"], review["candidate_key"], review["reason"]) == (
        near.person_key, first.person_key, "near_identical_name")
    assert len(await rows(db, "select 1 from cases where person_key = any($1)",
                          [first.person_key, near.person_key])) == 2
    [item] = await reviews_seen_by(db, "831")  # Derby holds both: its staff see both sides to decide
    assert (item["reason"], item["person"]["given_name"], item["candidate"]["given_name"]) == (
        "near_identical_name", "Aiden", "Aidan")
    assert (item["person"]["upn"], item["candidate"]["upn"]) == (near.upn, first.upn)
    assert await reviews_seen_by(db, "873") == []


@pytest.mark.parametrize("path", PATHS)
async def test_twins_aidan_and_aiden_with_permanent_upns_are_two_people_and_no_review(db, path):
    first = report(body(49000, given_name="Aidan", home_postcode="DE22 3QW"))
    second = report(body(49001, given_name="Aiden", home_postcode="DE22 3QW"))
    await apply(db, [first], path)
    await apply(db, [second, report(body(49002, given_name="Zara", family_name="Nowak"))], path)
    people = await rows(db, "select person_key from young_people where merged_into is null and person_key = any($1)",
                        [first.person_key, second.person_key])
    assert len(people) == 2
    assert await rows(db, "select * from review_queue") == []
    assert sorted(k for k in await referrals(db) if k in (first.person_key, second.person_key)) == sorted(
        [first.person_key, second.person_key])


async def test_the_near_name_lookup_is_one_index_probe(db):
    """EXPLAIN of the near-name query (store.NEAR_NAMES) on a table of some thousands of people, with statistics."""
    async with _conn(db) as c:
        await c.execute(
            "insert into young_people (person_key, leaver_id, responsible_la, details, facts, match_key, family_norm,"
            " given_norm, dob, postcode) select 'k' || n, gen_random_uuid(), '831', '{}', '{}', 'm' || n,"
            " 'family' || (n % 997), 'given' || n, date '2007-09-01' + (n % 365), 'DE' || (n % 5000)"
            " from generate_series(1, 20000) n")
        await c.execute("analyze young_people")
        plan = "\n".join(r[0] for r in await c.fetch(
            "explain " + store.NEAR_NAMES, date(2007, 11, 3), "DE223QW", "okafor", "831", "k0"))
    assert "Seq Scan" not in plan, plan
    assert "young_people_dob_postcode" in plan and "young_people_dob_family" in plan, plan
