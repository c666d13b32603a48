"""Deployment files: docker-compose.yml against the Compose specification and the code; the Kubernetes
manifests against the Kubernetes API schemas (kubernetes-validate) and against deploy/k8s/render.py."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from pydantic import AliasChoices

from onward.processes import SERVICES
from onward.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
K8S = ROOT / "deploy" / "k8s" / "base"
# Read outside Settings: the Postgres server URL `onward prepare` creates databases on.
EXTRA_ENV = {"ONWARD_PG_URL"}


def setting_names() -> set[str]:
    names = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        names |= set(alias.choices) if isinstance(alias, AliasChoices) else {alias} if alias else set()
    return names


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_file_is_valid_against_the_compose_specification():
    out = subprocess.run([str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema",
                          "vendor.compose-spec", str(COMPOSE)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_compose_runs_every_process_of_every_service(compose):
    expected = {f"{s.name}-{p}" for s in SERVICES.values() for p in s.processes()}
    assert set(compose["services"]) == expected | {"kafka", "postgres", "prepare"}
    for name in expected:
        service, process = name.split("-")
        svc = compose["services"][name]
        assert svc["command"][:3] == ["serve", service, process], name
        assert svc["environment"]["DATABASE_URL"].endswith("/" + SERVICES[service].database()), name
        if process == "api":
            port = SERVICES[service].port
            assert svc["ports"] == [f"{port}:{port}"] and svc["command"][3:5] == ["--port", str(port)]
            assert f"{port}/readyz" in " ".join(svc["healthcheck"]["test"])
        else:
            assert svc["environment"]["ONWARD_METRICS_PORT"] == "9100"
            assert "9100/metrics" in " ".join(svc["healthcheck"]["test"])


def test_compose_uses_only_settings_the_code_reads(compose):
    known = setting_names() | EXTRA_ENV
    for name, svc in compose["services"].items():
        if name in ("kafka", "postgres"):
            continue
        unknown = set(svc.get("environment", {})) - known
        assert not unknown, f"{name}: {unknown} are not settings of onward/settings.py"
        for required in ("KAFKA_BOOTSTRAP_SERVERS", "ONWARD_JWT_SECRET", "ONWARD_PERSON_KEY_SECRET"):
            assert required in svc["environment"], (name, required)


def test_compose_health_checks_and_start_order(compose):
    services = compose["services"]
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft, no ZooKeeper
    for name, svc in services.items():
        if name == "prepare":
            assert svc["healthcheck"] == {"disable": True}
            assert {d: c["condition"] for d, c in svc["depends_on"].items()} == {
                "kafka": "service_healthy", "postgres": "service_healthy"}
            continue
        assert "test" in svc["healthcheck"], f"{name} has no health check"
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert dep in services
            assert cond["condition"] in ("service_healthy", "service_completed_successfully")
    for name in services:
        if name not in ("kafka", "postgres", "prepare"):
            assert services[name]["depends_on"] == {"prepare": {"condition": "service_completed_successfully"}}


def _render():
    spec = importlib.util.spec_from_file_location("k8s_render", ROOT / "deploy" / "k8s" / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_kubernetes_manifests_are_what_render_py_writes():
    rendered = _render().render()
    on_disk = {p.name: p.read_text() for p in K8S.glob("*.yaml")}
    assert on_disk == rendered, "deploy/k8s/base is stale: run .venv/bin/python deploy/k8s/render.py"


def _docs():
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            for doc in yaml.safe_load_all(path.read_text()):
                yield path.name, doc


@pytest.mark.parametrize("name,doc", list(_docs()), ids=lambda v: v if isinstance(v, str) else v["kind"])
def test_kubernetes_manifest_is_valid(name, doc):
    kubernetes_validate.validate(doc, "1.33", strict=True)


def test_kubernetes_deployments_have_probes_limits_and_secret_references_only():
    docs = [d for _, d in _docs()]
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} == {
        f"{s.name.replace('_', '-')}-{p}" for s in SERVICES.values() for p in ("api", "worker", "relay")}
    for d in deployments:
        c = d["spec"]["template"]["spec"]["containers"][0]
        assert c["livenessProbe"]["httpGet"]["path"] in ("/healthz", "/metrics")
        assert c["readinessProbe"]["httpGet"]["path"] in ("/readyz", "/metrics")
        assert c["resources"]["limits"]["memory"] and c["resources"]["requests"]["cpu"]
        for env in c["env"]:
            assert "value" not in env or not any(s in env["name"] for s in ("SECRET", "DATABASE_URL")), env
        assert {e["name"] for e in c["env"]} <= setting_names()
    assert not [d for d in docs if d["kind"] == "Secret"], "secrets are referenced, never committed"
    kinds = {d["kind"] for d in docs}
    assert {"Job", "PodDisruptionBudget", "Service", "ConfigMap"} <= kinds
    config = next(d for d in docs if d["kind"] == "ConfigMap")
    assert set(config["data"]) <= setting_names()
    assert config["data"]["ONWARD_DEV_SIGN_IN"] == "false" and config["data"]["ONWARD_ENV"] == "production"


def test_the_runbook_documents_every_setting():
    runbook = (ROOT / "docs" / "operations.md").read_text()
    missing = {name for name in setting_names() | EXTRA_ENV if f"`{name}`" not in runbook}
    assert not missing, f"docs/operations.md lacks {missing}"
