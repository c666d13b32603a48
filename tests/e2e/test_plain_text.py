"""Control characters and non-ASCII identifiers on the running stack: a 422 naming the field, never a
500, in a single post, a batch (the other rows accepted), a staff note and query parameters; and no
part of a rejected record in any service's log or the database server's."""
from __future__ import annotations

import uuid

from tests.e2e.leavers import leaver
from tests.infra import TEST_RUN


def _fields(r) -> list[str]:
    return [e["field"] for e in r.json()["detail"]]


async def test_control_characters_and_other_scripts_digits_are_422_naming_the_field(http, urls, tokens):
    marker = f"Ctl{uuid.uuid4().hex[:10]}"
    school = tokens("school", laestab="8314001")
    r = await http.post(f"{urls['school_exit']}/v1/leavers", json=leaver(given_name=marker + "\x00"), headers=school)
    assert r.status_code == 422 and _fields(r) == ["given_name"]
    r = await http.post(f"{urls['school_exit']}/v1/leavers", json=leaver(uln="123456789\u0669",
                                                                        family_name=marker), headers=school)
    assert r.status_code == 422 and _fields(r) == ["uln"]

    good = leaver()
    batch = {"leavers": [good, leaver(family_name=marker, address_lines=[marker + "\x1b[2J Road"])]}
    r = await http.post(f"{urls['school_exit']}/v1/leavers/batch", json=batch, headers=school)
    assert r.status_code == 207 and (r.json()["accepted"], r.json()["rejected"]) == (1, 1)
    assert [e["field"] for e in r.json()["results"][1]["errors"]] == ["address_lines"]

    la = tokens("la_staff", la="831")
    r = await http.get(f"{urls['la_tracker']}/v1/cases", params={"q": marker + "\x00"}, headers=la)
    assert r.status_code == 422 and _fields(r) == ["q"]
    r = await http.get(f"{urls['ncs_referral']}/v1/referrals", params={"status": "new\x07"},
                       headers=tokens("ncs_adviser", ncs_area="East Midlands"))
    assert r.status_code == 422 and _fields(r) == ["status"]

    logs = [p for p in (TEST_RUN / "stack" / "logs").glob("*.log")] + [TEST_RUN / "postgres" / "postgres.log"]
    for log in logs:
        assert marker not in log.read_text(errors="replace"), log.name
