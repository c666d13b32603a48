"""What runs where: each service's port, migrations and processes (HTTP API, stream worker, outbox relay)."""
from __future__ import annotations

import asyncio
import importlib
import logging
import socket
from dataclasses import dataclass
from pathlib import Path

from onward import liveness, logs, telemetry
from onward.settings import Settings
from schemas import topics

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Service:
    name: str
    port: int

    @property
    def migrations(self) -> Path:
        return ROOT / "services" / self.name / "migrations"

    def processes(self, worker_replicas: int = 1) -> tuple[str, ...]:
        """Process names: api, relay and worker (worker-2, worker-3... for more replicas of it)."""
        workers = ("worker",) + tuple(f"worker-{i}" for i in range(2, worker_replicas + 1))
        return ("api", *workers, "relay")

    def database(self, prefix: str = "onward") -> str:
        return f"{prefix}_{self.name}"


# schemas/topics.py's list of services, on the local stack's ports 8001, 8002, 8003.
SERVICES: dict[str, Service] = {name: Service(name, 8001 + i) for i, name in enumerate(topics.SERVICES)}


def metrics_port(api_port: int, process: str) -> int:
    """Where a worker or relay serves /metrics in the local stack: the API's port + 100 per worker
    replica (8101, 8201, ...), + 900 for the relay (8901)."""
    if process == "relay":
        return api_port + 900
    replica = int(process.split("-")[1]) if "-" in process else 1
    return api_port + 100 * replica


def serve(service: str, process: str, settings: Settings, port: int | None = None, host: str = "127.0.0.1") -> None:
    """Run one process of a service in the foreground (what `onward serve` and the stack start)."""
    spec = SERVICES[service]
    settings.check_bind(host)  # without an explicit ONWARD_ENV, loopback only
    logs.configure(f"{service}.{process}", settings.log_level)
    telemetry.configure(service)
    health = liveness.Progress() if process.startswith("worker") else None
    if process != "api" and settings.metrics_port:
        # Workers and relays have no HTTP API: /metrics and /healthz (a worker's: its consumer's progress,
        # onward/liveness.py) are on a port of their own.
        liveness.serve(health, settings.metrics_port, host)
    if process == "api":
        import uvicorn

        app = importlib.import_module(f"services.{service}.api").build_app(settings)
        if not settings.internal_port:
            uvicorn.run(app, host=host, port=port or spec.port, log_config=None, access_log=False)
            return
        # One server on the public port and the internal one (in production, docs and metrics answer there only).
        server = uvicorn.Server(uvicorn.Config(app, host=host, log_config=None, access_log=False))
        server.run(sockets=[_listen(host, p) for p in (port or spec.port, settings.internal_port)])
        if not server.started:
            raise SystemExit(3)
    elif process.startswith("worker"):
        from onward.db import wait_for_schema
        from onward.stream import run_worker

        asyncio.run(wait_for_schema(settings.database_url, spec.migrations))  # before joining the group
        # Replicas join the service's one consumer group and share its partitions.
        settings = settings.model_copy(update={"replica": process})
        app = importlib.import_module(f"services.{service}.worker").build_worker(settings)
        app.onward_progress = health
        run_worker(app)
    elif process == "relay":
        asyncio.run(run_relay(settings))
    else:
        raise ValueError(f"unknown process {process!r}: api, worker or relay")


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


async def run_relay(settings: Settings) -> None:
    """The outbox relay, restarted after any connection loss (Postgres or Kafka restarts). Its backlog
    gauges are refreshed every ONWARD_RELAY_POLL_SECONDS beside it, whether or not Kafka answers."""
    from onward.outbox import report_backlog

    gauges = asyncio.create_task(report_backlog(settings.database_url, settings.relay_poll_seconds))
    try:
        await _relay_forever(settings)
    finally:
        gauges.cancel()


async def _relay_forever(settings: Settings) -> None:
    from onward.db import create_pool
    from onward.outbox import OutboxRelay, kafka_producer

    while True:
        pool = producer = None
        try:
            pool = await create_pool(settings.database_url, 4)
            producer = kafka_producer(settings.kafka_bootstrap_servers)
            await producer.start()
            relay = OutboxRelay(pool, producer, batch_size=settings.relay_batch_size,
                                poll_seconds=settings.relay_poll_seconds)
            await relay.run(settings.database_url)
        except Exception as exc:
            log.warning("relay stopped; restarting", extra={"error": type(exc).__name__})
            await asyncio.sleep(1)
        finally:
            if producer is not None:
                await producer.stop()
            if pool is not None:
                pool.terminate()


async def prepare(server_url: str, bootstrap: str, partitions: int, prefix: str = "onward", replication: int = 1) -> dict[str, str]:
    """Create each service's role and database (the role owns it), apply migrations as that role and
    create topics; return the URLs the services connect with (their own roles, not `server_url`'s)."""
    from onward.db import ensure_service_database, migrate
    from onward.kafka_admin import ensure_topics

    urls = {}
    for spec in SERVICES.values():
        urls[spec.name] = await ensure_service_database(server_url, spec.database(prefix))
        await migrate(urls[spec.name], spec.migrations)
    await ensure_topics(bootstrap, partitions, replication=replication)
    return urls
