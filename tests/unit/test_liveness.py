"""A stream worker's liveness comes from its consumer's progress (onward/liveness.py), served on the
metrics port where Kubernetes' liveness probe reads it (deploy/k8s: /healthz on 9100)."""
import httpx
import pytest

from onward.liveness import Progress, serve


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def test_an_idle_worker_and_a_busy_one_are_alive(clock):
    p = Progress(stall_seconds=300, clock=clock)
    for _ in range(10):  # idle for 50 minutes: no lag, lag checks keep running
        clock.now += 300
        p.checked(waiting=0)
    assert p.problem() is None
    p.checked(waiting=500)
    clock.now += 200
    p.batch_done()
    clock.now += 200
    p.checked(waiting=20)
    assert p.problem() is None  # behind, but a batch finished 200 s ago


def test_records_waiting_and_no_batch_finished_is_stalled(clock):
    p = Progress(stall_seconds=300, clock=clock)
    p.checked(waiting=3)
    clock.now += 301
    p.checked(waiting=3)
    assert p.problem() == "records waiting and no batch finished"
    p.batch_done()
    assert p.problem() is None


def test_a_blocked_event_loop_is_stalled(clock):
    p = Progress(stall_seconds=300, clock=clock)
    clock.now += 301  # neither the lag check nor a batch ran
    assert p.problem() == "lag check has not run: event loop blocked"


def test_the_probe_reads_progress_over_http_and_metrics_share_the_port(clock):
    p = Progress(stall_seconds=300, clock=clock)
    server = serve(p, 0, "127.0.0.1")
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert httpx.get(f"{base}/healthz").status_code == 200
        p.checked(waiting=1)
        clock.now += 301
        p.checked(waiting=1)
        r = httpx.get(f"{base}/healthz")
        assert r.status_code == 503 and "no batch finished" in r.text
        assert "python_info" in httpx.get(f"{base}/metrics").text
    finally:
        server.shutdown()
        server.server_close()


def test_a_process_without_a_consumer_is_alive_while_it_answers():
    server = serve(None, 0, "127.0.0.1")
    try:
        assert httpx.get(f"http://127.0.0.1:{server.server_address[1]}/healthz").status_code == 200
    finally:
        server.shutdown()
        server.server_close()
