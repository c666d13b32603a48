"""Liveness of a stream worker from its consumer's progress, not from a thread that answers HTTP.

A worker is alive unless it is stalled: records wait on a partition assigned to it (lag > 0) and it
has not finished a batch for `stall_seconds`; or its own lag check (on faust's event loop) has not
run for `stall_seconds`, which means the loop itself is blocked. An idle worker (no lag) and a spare
replica (no partitions) are alive. Kubernetes' liveness probe reads `/healthz` on the metrics port
(503 when stalled) and restarts the pod; `/metrics` on the same port serves Prometheus.
"""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

STALL_SECONDS = 300.0  # longer than any batch (its retries back off to 5 s) and than a rebalance


class Progress:
    """What the worker last did, written on faust's loop and read by the health server's thread."""

    def __init__(self, stall_seconds: float = STALL_SECONDS, clock=time.monotonic) -> None:
        self.stall_seconds = stall_seconds
        self.clock = clock
        self.last_batch = self.last_check = clock()
        self.waiting = 0  # records waiting on this worker's partitions at the last check

    def batch_done(self) -> None:
        self.last_batch = self.clock()

    def checked(self, waiting: int) -> None:
        """The lag check ran: `waiting` records are behind on the partitions assigned to this worker."""
        self.waiting, self.last_check = waiting, self.clock()

    def problem(self) -> str | None:
        """Why the worker is not alive, or None when it is."""
        now = self.clock()
        if now - self.last_check > self.stall_seconds:
            return "lag check has not run: event loop blocked"
        if self.waiting and now - self.last_batch > self.stall_seconds:
            return "records waiting and no batch finished"
        return None


def serve(progress: Progress | None, port: int, host: str) -> ThreadingHTTPServer:
    """`/healthz` (liveness from `progress`; always alive without one) and `/metrics`, on a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path.startswith("/healthz"):
                problem = progress.problem() if progress else None
                body, status, kind = (problem or "alive").encode(), 503 if problem else 200, "text/plain"
            else:
                body, status, kind = generate_latest(), 200, CONTENT_TYPE_LATEST
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args) -> None:  # probes every few seconds: no access log
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True, name="health").start()
    return server
