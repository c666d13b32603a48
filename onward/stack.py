"""Start and stop the services' processes in the background (make up / make down, and the e2e tests).

Each process is `onward serve <service> <process>` with its own DATABASE_URL, a pid file and a log
file under the run directory. `up` returns only when every API answers /readyz.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from onward.processes import SERVICES, metrics_port


@dataclass
class Stack:
    run_dir: Path
    database_urls: dict[str, str]
    kafka_bootstrap: str
    ports: dict[str, int] = field(default_factory=lambda: {s.name: s.port for s in SERVICES.values()})
    env: dict[str, str] = field(default_factory=dict)
    worker_replicas: int = 1

    def names(self) -> list[tuple[str, str]]:
        return [(s.name, p) for s in SERVICES.values() for p in s.processes(self.worker_replicas)]

    @property
    def pid_dir(self) -> Path:
        return self.run_dir / "pids"

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "logs"

    def process_env(self, service: str) -> dict[str, str]:
        return {**os.environ, **self.env, "DATABASE_URL": self.database_urls[service],
                "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap, "ONWARD_RUN_DIR": str(self.run_dir),
                "PYTHONUNBUFFERED": "1"}

    def start(self, service: str, process: str) -> int:
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        name = f"{service}-{process}"
        log = open(self.log_dir / f"{name}.log", "ab")
        cmd = [sys.executable, "-m", "onward.cli", "serve", service, process, "--port", str(self.ports[service])]
        env = {**self.process_env(service), "ONWARD_METRICS_PORT": str(metrics_port(self.ports[service], process))}
        proc = subprocess.Popen(cmd, env=env if process != "api" else self.process_env(service), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        (self.pid_dir / f"{name}.pid").write_text(str(proc.pid))
        return proc.pid

    def up(self, timeout: float = 90) -> None:
        for name, process in self.names():
            if not self.alive(name, process):
                self.start(name, process)
        self.wait_ready(timeout)

    def pid(self, service: str, process: str) -> int | None:
        path = self.pid_dir / f"{service}-{process}.pid"
        try:
            return int(path.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def alive(self, service: str, process: str) -> bool:
        pid = self.pid(service, process)
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    def check_alive(self) -> None:
        for name, process in self.names():
            if not self.alive(name, process):
                raise RuntimeError(f"{name} {process} exited; see "
                                   f"{self.log_dir / f'{name}-{process}.log'}:\n" + self.tail(name, process))

    def wait_ready(self, timeout: float, settle: float = 3.0) -> None:
        """Every API answers /readyz, and no worker or relay has died during `settle` seconds after."""
        deadline = time.monotonic() + timeout
        pending = set(SERVICES)
        while pending:
            self.check_alive()
            for name in sorted(pending):
                try:
                    if httpx.get(f"http://127.0.0.1:{self.ports[name]}/readyz", timeout=5).status_code == 200:
                        pending.discard(name)
                except httpx.HTTPError:
                    pass
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"not ready after {timeout:.0f} s: {', '.join(sorted(pending))}")
            time.sleep(0.3)
        time.sleep(settle)
        self.check_alive()

    def tail(self, service: str, process: str, lines: int = 20) -> str:
        path = self.log_dir / f"{service}-{process}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def kill(self, service: str, process: str, sig: int = signal.SIGTERM) -> None:
        pid = self.pid(service, process)
        if pid is not None:
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                pass

    def down(self, grace: float = 15) -> None:
        # Every process a pid file names, whatever the replica count it was started with.
        names = sorted({tuple(p.stem.split("-", 1)) for p in self.pid_dir.glob("*.pid")} | set(self.names()))
        for name, process in names:
            self.kill(name, process)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(self.alive(n, p) for n, p in names):
            time.sleep(0.2)
        for name, process in names:
            if self.alive(name, process):
                self.kill(name, process, signal.SIGKILL)
            (self.pid_dir / f"{name}-{process}.pid").unlink(missing_ok=True)
