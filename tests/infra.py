"""Test infrastructure: real Kafka and real PostgreSQL, from the first source that answers.

1. KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL (a server URL) when both are set;
2. testcontainers when a Docker engine answers;
3. otherwise the project's local broker and Postgres (deploy/local), on test ports, fresh per session.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from onward.db import local_server_url

ROOT = Path(__file__).resolve().parent.parent
# A second checkout (a git worktree) can run its suite beside this one: ONWARD_TEST_PORT_OFFSET shifts
# every test port (and the run directory is per checkout already).
PORT_OFFSET = int(os.environ.get("ONWARD_TEST_PORT_OFFSET", "0"))
KAFKA_PORT, PG_PORT = 19092 + PORT_OFFSET, 15544 + PORT_OFFSET
# and its own run directory, so that two suites in one checkout do not share a broker or a cluster.
TEST_RUN = ROOT / ".run" / ("test" if not PORT_OFFSET else f"test-{PORT_OFFSET}")


@dataclass
class Infra:
    kafka: str
    pg_server: str
    source: str
    _stops: list = field(default_factory=list)

    def stop(self) -> None:
        for stop in reversed(self._stops):
            stop()


def _docker_engine() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def _from_containers() -> Infra:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    kafka = KafkaContainer().with_kraft()
    kafka.with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1").with_env(
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
    pg = PostgresContainer("postgres:15", driver=None)
    kafka.start()
    pg.start()
    infra = Infra(kafka.get_bootstrap_server(), pg.get_connection_url(), "testcontainers")
    infra._stops += [kafka.stop, pg.stop]
    return infra


def _script(name: str, *args: str) -> None:
    subprocess.run([str(ROOT / "deploy" / "local" / name), *args], check=True)


def _local() -> Infra:
    kafka_dir, pg_dir = TEST_RUN / "kafka", TEST_RUN / "postgres"
    _script("kafka.sh", "stop", str(kafka_dir))  # a broker left by an interrupted session
    shutil.rmtree(kafka_dir, ignore_errors=True)  # a fresh cluster per session
    _script("postgres.sh", "start", str(pg_dir), str(PG_PORT))
    _script("kafka.sh", "start", str(kafka_dir), str(KAFKA_PORT))
    infra = Infra(f"127.0.0.1:{KAFKA_PORT}", local_server_url(pg_dir, PG_PORT), "local")
    infra._stops += [lambda: _script("postgres.sh", "stop", str(pg_dir)),
                     lambda: _script("kafka.sh", "stop", str(kafka_dir))]
    return infra


def start_infra() -> Infra:
    kafka, pg = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("DATABASE_URL")
    if kafka and pg:
        return Infra(kafka, pg, "environment")
    if _docker_engine():
        return _from_containers()
    return _local()
