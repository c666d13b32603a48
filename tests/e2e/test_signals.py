"""Operators' signals after an end-to-end run: one trace across the three services, and the named
Prometheus metrics on every process (APIs on their ports, workers and relays on their metrics ports)."""
from __future__ import annotations

import secrets

from prometheus_client.parser import text_string_to_metric_families

from onward.processes import metrics_port
from tests.e2e.conftest import PORTS, eventually
from tests.e2e.leavers import leaver


async def _metrics(http, port: int) -> dict[str, list]:
    r = await http.get(f"http://127.0.0.1:{port}/metrics")
    assert r.status_code == 200
    out: dict[str, list] = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample)
    return out


def _total(samples: list, **labels) -> float:
    return sum(s.value for s in samples if all(s.labels.get(k) == v for k, v in labels.items()))


async def _refer(http, urls, tokens, trace_id: str) -> tuple[dict, dict]:
    body = leaver()
    r = await http.post(f"{urls['school_exit']}/v1/leavers", json=body,
                        headers={**tokens("school", laestab=body["school_laestab"]),
                                 "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"})
    assert r.status_code == 202, r.text
    pkey = r.json()["person_key"]

    async def referral():
        r = await http.get(f"{urls['ncs_referral']}/v1/referrals", params={"person_key": pkey}, headers=tokens("admin"))
        return r.json()["items"]
    return body, (await eventually(referral))[0]


async def test_a_trace_id_set_at_school_exit_reaches_ncs_referral(http, urls, tokens):
    trace_id = secrets.token_hex(16)
    _, ref = await _refer(http, urls, tokens, trace_id)
    detail = (await http.get(f"{urls['ncs_referral']}/v1/referrals/{ref['referral_id']}", headers=tokens("admin"))).json()
    received = next(e for e in detail["timeline"] if e["kind"] == "received")
    assert received["trace_id"] == trace_id
    # A request without a trace starts its own: a different id, not the previous one.
    _, other = await _refer(http, urls, tokens, secrets.token_hex(16))
    detail = (await http.get(f"{urls['ncs_referral']}/v1/referrals/{other['referral_id']}", headers=tokens("admin"))).json()
    assert next(e for e in detail["timeline"] if e["kind"] == "received")["trace_id"] != trace_id


async def test_every_process_exposes_its_named_metrics_after_a_run(http, urls, tokens):
    await _refer(http, urls, tokens, secrets.token_hex(16))
    for service, port in PORTS.items():
        assert "onward_http_request_duration_seconds_bucket" in await _metrics(http, port), service
    school = await _metrics(http, PORTS["school_exit"])
    assert _total(school["onward_http_request_duration_seconds_count"], route="/v1/leavers", status="202") >= 1
    la = await _metrics(http, PORTS["la_tracker"])
    assert _total(la["onward_la_open_cases"], la="831") >= 1 and "onward_la_oldest_open_case_seconds" in la
    ncs = await _metrics(http, PORTS["ncs_referral"])
    assert "onward_ncs_unclaimed_referrals" in ncs and "onward_ncs_oldest_unclaimed_seconds" in ncs

    # Workers (two replicas each) and relays serve /metrics on their own ports.
    async def worker_metrics(service: str) -> list[dict]:
        return [await _metrics(http, metrics_port(PORTS[service], p)) for p in ("worker", "worker-2")]

    # A batch of reports of new young people takes la_tracker's set-based path.
    batch = [leaver() for _ in range(60)]
    r = await http.post(f"{urls['school_exit']}/v1/leavers/batch", json={"leavers": batch},
                        headers=tokens("school", laestab="8314001"))
    assert r.status_code in (200, 207), r.text[:300]

    async def batched():
        return sum(_total(w.get("onward_la_new_people_batched_total", [])) for w in await worker_metrics("la_tracker"))
    assert await eventually(batched, timeout=20, interval=0.5) >= 2

    ncs_workers = await worker_metrics("ncs_referral")
    assert sum(_total(w.get("onward_handoff_latency_seconds_count", [])) for w in ncs_workers) >= 1
    assert sum(_total(w.get("onward_events_consumed_total", []), result="processed") for w in ncs_workers) >= 1

    async def lag_reported():  # the workers report lag and DLQ depth every 15 s
        la_workers = await worker_metrics("la_tracker")
        return (any("onward_consumer_lag_records" in w for w in la_workers)
                and any("onward_dlq_records" in w for w in la_workers) and la_workers)
    la_workers = await eventually(lag_reported, timeout=40, interval=1)
    lag = [s for w in la_workers for s in w.get("onward_consumer_lag_records", [])]
    assert {s.labels["topic"] for s in lag} >= {"school-exit.leaver-registered.v1"}
    assert all(s.labels["group"] == "onward-la_tracker" and s.labels["partition"].isdigit() for s in lag)

    for service in ("la_tracker", "ncs_referral", "school_exit"):  # liveness from consumer progress, same port
        for process in ("worker", "worker-2"):
            r = await http.get(f"http://127.0.0.1:{metrics_port(PORTS[service], process)}/healthz")
            assert (r.status_code, r.text) == (200, "alive"), (service, process)

    for service in PORTS:
        relay = await _metrics(http, metrics_port(PORTS[service], "relay"))
        assert "onward_outbox_backlog_events" in relay and "onward_outbox_oldest_unpublished_seconds" in relay, service
    relay = await _metrics(http, metrics_port(PORTS["school_exit"], "relay"))
    assert _total(relay["onward_outbox_published_total"], topic="school-exit.leaver-registered.v1") >= 1
