"""The hashed lock files (requirements/, written by `make lock`) agree with pyproject.toml, and make and
the image install from them with hash checking."""
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {"test.txt": ("test",), "runtime.txt": ("otel",), "bench.txt": ("test", "bench")}
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", re.M)


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(text: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for name, version in _PIN.findall(text):
        out.setdefault(_name(name), set()).add(version)
    return out


@pytest.mark.parametrize("lock,extras", LOCKS.items())
def test_every_direct_pin_is_locked_at_its_version_with_hashes(lock, extras):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = project["dependencies"] + [d for e in extras for d in project["optional-dependencies"][e]]
    text = (ROOT / "requirements" / lock).read_text()
    locked = _pins(text)
    stale = [d for d in direct if (m := _PIN.match(d)) and {m[2]} != locked.get(_name(m[1]))]
    assert not stale, f"requirements/{lock} is stale for {stale}: run `make lock`"
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])  # one block per locked package
    assert all("--hash=sha256:" in b for b in blocks if _PIN.match(b)), "a locked package without a hash"


def test_make_and_the_image_install_with_hash_checking():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -q --require-hashes -r requirements/build.txt -r requirements/test.txt" in makefile
    assert "pip install -q --no-deps --no-build-isolation -e ." in makefile
    dockerfile = (ROOT / "deploy" / "docker" / "Dockerfile").read_text()
    assert "pip install --require-hashes -r requirements/build.txt -r requirements/runtime.txt" in dockerfile
    assert "pip install --no-deps --no-build-isolation ." in dockerfile
    assert "opentelemetry-exporter-otlp-proto-http" in _pins((ROOT / "requirements" / "runtime.txt").read_text())
    python = re.search(r"^FROM python:(\d+)\.(\d+)", dockerfile, re.M)
    node = re.search(r"^FROM node:(\d+)", dockerfile, re.M)
    assert python and (3, 11) <= (int(python[1]), int(python[2])) <= (3, 13)
    assert node and int(node[1]) >= 22  # sass needs >= 20.19; Node 20's support ended in April 2026
