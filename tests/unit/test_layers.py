"""The layers import one way: pages never import the JSON API (both call the service's queries
modules), shared plumbing (onward/, schemas/) imports no service, services never import each other,
and no two modules import each other at module level (a cycle hidden in a function is still a cycle,
so imports inside functions count too)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("school_exit", "la_tracker", "ncs_referral")
KNOWN_CYCLES: list[set[str]] = []


def _modules() -> dict[str, Path]:
    found = {}
    for top in ("onward", "schemas", "services"):
        for path in (ROOT / top).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules this module imports, anywhere in it."""
    out = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
            out |= {base} | {f"{base}.{a.name}" for a in node.names}
    return {m for m in out if m in known and m != name}


GRAPH = {name: _imports(name, path, set(_modules())) for name, path in _modules().items()}


def test_no_two_modules_import_each_other():
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for start in sorted(GRAPH):
        if start not in state:
            visit(start, [start])
    assert [c for c in cycles if set(c) not in KNOWN_CYCLES] == []


def test_shared_plumbing_imports_no_service_and_services_not_each_other():
    wrong = [(m, i) for m, deps in GRAPH.items() for i in deps
             if (m.startswith(("onward", "schemas")) and i.startswith("services"))
             or (m.startswith("services.") and i.startswith("services.") and m.split(".")[1] != i.split(".")[1])]
    assert wrong == []


@pytest.mark.parametrize("service", SERVICES)
def test_pages_do_not_import_the_json_api(service):
    """In a fresh interpreter: importing every page module of the service loads none of its API modules."""
    code = (f"import importlib, pkgutil, sys\nimport services.{service} as p\n"
            "pages = [m.name for m in pkgutil.iter_modules(p.__path__) if m.name.startswith('web')"
            " or m.name.endswith('_web')]\n"
            f"[importlib.import_module('services.{service}.' + m) for m in pages]\n"
            f"print(sorted(m for m in sys.modules if m.startswith('services.{service}.api')), len(pages))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    loaded, pages = out.rsplit(" ", 1)
    assert (loaded, int(pages) > 0) == ("[]", True)
