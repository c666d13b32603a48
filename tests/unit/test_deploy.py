"""Deployment files: docker-compose.yml against the Compose specification and the code; the Kubernetes
manifests against the Kubernetes API schemas (kubernetes-validate) and against deploy/k8s/render.py."""
from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from pydantic import AliasChoices

from onward.processes import SERVICES
from onward import notify
from onward.settings import Settings
from services.la_tracker import nccis_ids

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


CUSTOM_KINDS = {"KafkaTopic", "KafkaUser", "PodMonitor", "PrometheusRule"}  # Strimzi and Prometheus Operator resources


@pytest.mark.parametrize("name,doc", [(n, d) for n, d in _docs() if d["kind"] not in CUSTOM_KINDS],
                         ids=lambda v: v if isinstance(v, str) else v["kind"])
def test_kubernetes_manifest_is_valid(name, doc):
    kubernetes_validate.validate(doc, "1.33", strict=True)


def _containers(kind: str = "Deployment"):
    for _, d in _docs():
        if d["kind"] == kind:
            spec = d["spec"]["template"]["spec"]
            for c in spec.get("initContainers", []) + spec["containers"]:
                yield d, c


def test_kubernetes_deployments_have_probes_limits_and_secret_references_only():
    docs = [d for _, d in _docs()]
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} == {
        f"{s.name.replace('_', '-')}-{p}" for s in SERVICES.values() for p in ("api", "worker", "relay")}
    for d in deployments:
        c = d["spec"]["template"]["spec"]["containers"][0]
        process = d["metadata"]["labels"]["app.kubernetes.io/component"]
        # APIs: ready when Postgres is (/readyz); workers: alive while their consumer makes progress (/healthz on 9100)
        assert (c["livenessProbe"]["httpGet"]["path"], c["readinessProbe"]["httpGet"]["path"]) == {
            "api": ("/healthz", "/readyz"), "worker": ("/healthz", "/healthz"), "relay": ("/metrics", "/metrics")}[process]
        assert c["resources"]["limits"]["memory"] and c["resources"]["requests"]["cpu"]
        spread = d["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert {t["topologyKey"] for t in spread} == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    for _, c in _containers():
        for env in c["env"]:
            assert "value" not in env or not any(s in env["name"] for s in ("SECRET", "PASSWORD", "DATABASE_URL")), env
        assert {e["name"] for e in c["env"]} <= setting_names()
    assert not [d for d in docs if d["kind"] == "Secret"], "secrets are referenced, never committed"
    kinds = {d["kind"] for d in docs}
    assert {"PodDisruptionBudget", "Service", "ConfigMap", "PodMonitor", "KafkaTopic", "KafkaUser"} <= kinds
    config = next(d for d in docs if d["kind"] == "ConfigMap")
    assert set(config["data"]) <= setting_names()
    assert config["data"]["ONWARD_DEV_SIGN_IN"] == "false" and config["data"]["ONWARD_ENV"] == "production"


def test_migrations_run_in_an_init_container_before_every_process_of_the_new_version():
    for d in (d for _, d in _docs() if d["kind"] == "Deployment"):
        service = d["metadata"]["labels"]["app.kubernetes.io/name"].removeprefix("onward-").replace("-", "_")
        [init] = d["spec"]["template"]["spec"]["initContainers"]
        assert init["args"] == ["migrate", service]
        url = next(e for e in init["env"] if e["name"] == "DATABASE_URL")["valueFrom"]["secretKeyRef"]
        assert url["key"] == f"{service}-migrate-url"


def _container_env(doc: dict, container: dict) -> dict[str, str]:
    """What a container's process sees: the ConfigMap it loads, then its own env (secrets as placeholders)."""
    config = next(d for _, d in _docs() if d["kind"] == "ConfigMap")
    env = dict(config["data"]) if container.get("envFrom") else {}
    for e in container["env"]:
        env[e["name"]] = e["value"] if "value" in e else f"secret-{e['valueFrom']['secretKeyRef']['key']}-from-the-store"
    return env


# Read from the environment outside Settings, and how the manifests provide them.
OUTSIDE_SETTINGS = {"ONWARD_PG_URL": "the CLI's `prepare` only (databases are the operator's in Kubernetes)",
                    "ONWARD_WEB_DIST": "set by the image (deploy/docker/Dockerfile ENV)",
                    "OTEL_EXPORTER_OTLP_ENDPOINT": "optional: traces export only when set",
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "optional: traces export only when set"}
_READ = re.compile(r"""(?:environ\.get|getenv|environ\[)\(?\s*["']([A-Z][A-Z0-9_]+)["']""")


def test_every_variable_the_code_reads_is_set_or_defaulted_in_the_manifests():
    """Each container's environment (ConfigMap + env) makes a valid production Settings, with the Kafka
    security, OIDC and metrics settings its process needs; any other variable the code reads is known here."""
    read = {m for path in [*ROOT.glob("onward/*.py"), *ROOT.glob("services/*/*.py")]
            for m in _READ.findall(path.read_text())}
    assert read - set(OUTSIDE_SETTINGS) == set(), "read outside onward/settings.py: add to OUTSIDE_SETTINGS"
    assert "ONWARD_WEB_DIST=" in (ROOT / "deploy" / "docker" / "Dockerfile").read_text()
    for doc, c in _containers():
        env = _container_env(doc, c)
        settings = Settings(**env)  # raises on what production refuses (development secrets, dev sign-in)
        if c["name"] == "migrate":
            assert settings.database_url.startswith("secret-") and settings.env == "development"
            continue
        assert settings.env == "production" and env["DATABASE_URL"].startswith("secret-"), doc["metadata"]["name"]
        service = doc["metadata"]["labels"]["app.kubernetes.io/name"].removeprefix("onward-")
        if c["name"] in ("worker", "relay"):
            assert settings.kafka_security_protocol == "SASL_SSL" and settings.kafka_ssl_cafile
            assert settings.kafka_sasl_username == f"onward-{service}" and settings.kafka_sasl_password
            assert settings.metrics_port == 9100
        elif service in ("la-tracker", "ncs-referral"):
            assert settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret, service
        if c["name"] == "api":  # /metrics answers only on the internal port in production: the scraped one
            ports = {p["name"]: p["containerPort"] for p in c["ports"]}
            assert settings.internal_port and ports["metrics"] == settings.internal_port != ports["http"]
        if service == "la-tracker":
            assert nccis_ids.configured(settings.env, settings.nccis_database_ids)  # refuses production without
        if (service, c["name"]) == ("la-tracker", "worker"):  # messages to young people through GOV.UK Notify
            notify.check_production(settings)  # raises, naming the variable, on a missing key, template or URL
            key = next(e for e in c["env"] if e["name"] == "ONWARD_NOTIFY_API_KEY")
            assert key["valueFrom"]["secretKeyRef"] == {"name": "onward-secrets", "key": "notify-api-key"}


def test_the_pod_monitor_scrapes_the_metrics_port_of_every_pod_never_the_public_one():
    docs = [d for _, d in _docs()]
    [monitor] = [d for d in docs if d["kind"] == "PodMonitor"]
    assert [e["port"] for e in monitor["spec"]["podMetricsEndpoints"]] == ["metrics"]
    for d in (d for d in docs if d["kind"] == "Deployment"):
        assert "metrics" in {p["name"] for p in d["spec"]["template"]["spec"]["containers"][0]["ports"]}, d


def test_kafka_topics_and_users_come_from_the_topic_registry_and_acl_list():
    from onward.kafka_security import acl_rules
    from schemas.topics import ALL_TOPICS

    docs = [d for _, d in _docs()]
    topics = {d["spec"]["topicName"]: d["spec"] for d in docs if d["kind"] == "KafkaTopic"}
    assert set(topics) == set(ALL_TOPICS)
    for name, spec in topics.items():
        assert spec["replicas"] == 3 and spec["config"]["min.insync.replicas"] == "2"
        assert spec["config"]["retention.ms"] == str(7 * 24 * 3600 * 1000)
        assert spec["partitions"] == (1 if name.endswith(".dlq") else 12)
    users = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "KafkaUser"}
    assert set(users) == set(acl_rules())
    for user, spec in users.items():
        assert spec["authentication"]["type"] == "scram-sha-512"
        assert [(a["resource"]["type"], a["resource"]["name"], tuple(a["operations"]))
                for a in spec["authorization"]["acls"]] == acl_rules()[user]


def test_alerts_are_the_runbooks_and_name_metrics_the_code_defines():
    """Each PrometheusRule alert is in the runbook's table verbatim, and every onward_ metric it reads is one
    the code defines (a renamed metric would leave an alert that can never fire)."""
    rule = next(d for _, d in _docs() if d["kind"] == "PrometheusRule")
    runbook = (ROOT / "docs" / "operations.md").read_text()
    code = "".join(p.read_text() for p in [*ROOT.glob("onward/*.py"), *ROOT.glob("services/*/*.py")])
    rules = rule["spec"]["groups"][0]["rules"]
    for r in rules:
        assert f"`{r['expr']}`" in runbook, r["alert"]
        for metric in re.findall(r"\b(onward_[a-z_]+?)(?:_bucket|_count|_sum)?\b", r["expr"]):
            assert f'"{metric}"' in code, (r["alert"], metric)
    lag = next(r for r in rules if r["alert"] == "OnwardConsumerLag")
    assert lag["expr"].endswith("> 0") and lag["for"] == "10m"  # any sustained lag, not only a large one


def _kustomize() -> list[str]:
    for tool in (["kubectl", "kustomize"], ["kustomize", "build"]):
        if shutil.which(tool[0]):
            return tool
    pytest.skip("neither kubectl nor kustomize is installed (go install sigs.k8s.io/kustomize/kustomize/v5@latest)")


@pytest.mark.parametrize("path", ["base", "overlays/region"])
def test_kustomize_renders_the_manifests(path):
    out = subprocess.run([*_kustomize(), str(ROOT / "deploy" / "k8s" / path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    docs = list(yaml.safe_load_all(out.stdout))
    assert len(docs) == sum(1 for _ in _docs())
    if path == "overlays/region":
        assert {d["metadata"].get("namespace") for d in docs} == {"onward"}
        events = [d for d in docs if d["kind"] == "KafkaTopic" and not d["spec"]["topicName"].endswith(".dlq")]
        assert events and {d["spec"]["partitions"] for d in events} == {24}


def test_the_runbook_documents_every_setting():
    runbook = (ROOT / "docs" / "operations.md").read_text()
    missing = {name for name in setting_names() | EXTRA_ENV if f"`{name}`" not in runbook}
    assert not missing, f"docs/operations.md lacks {missing}"
