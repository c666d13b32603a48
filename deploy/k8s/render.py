"""Writes the Kubernetes base manifests (deploy/k8s/base) from the code's own process list, topic
registry and ACLs.

    .venv/bin/python deploy/k8s/render.py       # rewrite deploy/k8s/base/*.yaml

The manifests are checked in (operators read and kustomize them); tests/unit/test_deploy.py fails
when they differ from what this script renders, validates them with kubernetes-validate and renders
them with `kubectl kustomize`. Resource figures come from `make bench` (docs/performance.md): the
la_tracker worker peaked at 177 MB RSS (the postcode directory is 55 MB of it), every other process
at or under 119 MB.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from onward.kafka_security import principal  # noqa: E402
from onward.processes import SERVICES  # noqa: E402

_spec = importlib.util.spec_from_file_location("k8s_platform", Path(__file__).resolve().parent / "platform_resources.py")
platform = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(platform)

BASE = Path(__file__).resolve().parent / "base"
IMAGE = "onward:1.0.0"
METRICS_PORT = 9100
LABELS = {"app.kubernetes.io/part-of": "onward"}
CONFIG = "onward-config"
SECRETS = "onward-secrets"  # created by the operator (or an external secrets operator); never in this repo
KAFKA_CA_DIR = "/etc/onward/kafka-ca"
PAGES = ("la_tracker", "ncs_referral")  # services with staff pages: OIDC sign-in
# la_tracker's worker messages young people through GOV.UK Notify: the templates (by id, from the Notify
# service's Templates page) and the public address its links point to. Examples: an overlay sets the real ones.
LA_TRACKER_MESSAGES = {"ONWARD_PUBLIC_URL": "https://onward-la.example.gov.uk",
                       "ONWARD_NOTIFY_SMS_TEMPLATE_ID": "f33517ff-2a88-4f6e-b855-c550268ce08a",
                       "ONWARD_NOTIFY_EMAIL_TEMPLATE_ID": "a1b2c3d4-2a88-4f6e-b855-c550268ce08b",
                       "ONWARD_NOTIFY_MESSAGES_PER_MINUTE": "2500"}

# (requests, limits) per process kind, from the benchmark's peak RSS with headroom.
RESOURCES = {
    "api": ({"cpu": "100m", "memory": "160Mi"}, {"cpu": "1", "memory": "320Mi"}),
    "worker": ({"cpu": "250m", "memory": "160Mi"}, {"cpu": "1", "memory": "320Mi"}),
    "relay": ({"cpu": "100m", "memory": "96Mi"}, {"cpu": "500m", "memory": "192Mi"}),
}
RESOURCES_LA_WORKER = ({"cpu": "250m", "memory": "256Mi"}, {"cpu": "1", "memory": "400Mi"})
RESOURCES_MIGRATE = ({"cpu": "50m", "memory": "96Mi"}, {"cpu": "500m", "memory": "192Mi"})
REPLICAS = {"api": 2, "worker": 2, "relay": 2}


def _labels(service: str, process: str) -> dict:
    return {**LABELS, "app.kubernetes.io/name": f"onward-{service.replace('_', '-')}",
            "app.kubernetes.io/component": process}


def _name(service: str, process: str) -> str:
    return f"{service.replace('_', '-')}-{process}"


def _secret(name: str, key: str, secret: str = SECRETS) -> dict:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _env(service: str, process: str) -> list[dict]:
    """Secrets by reference. APIs never talk to Kafka (the relay publishes their outbox): only workers and
    relays get the service's own Kafka user (its password from the Secret Strimzi's User Operator writes)."""
    env = [_secret("DATABASE_URL", f"{service}-database-url"), _secret("ONWARD_JWT_SECRET", "jwt-secret"),
           _secret("ONWARD_PERSON_KEY_SECRET", "person-key-secret")]
    if process == "api" and service in PAGES:
        env.append(_secret("ONWARD_OIDC_CLIENT_SECRET", "oidc-client-secret"))
    if process == "api":  # /metrics (and /docs) answer only on the internal port in production
        env.append({"name": "ONWARD_INTERNAL_PORT", "value": str(METRICS_PORT)})
    if process != "api":
        env += [{"name": "KAFKA_SASL_USERNAME", "value": principal(service)},
                _secret("KAFKA_SASL_PASSWORD", "password", secret=principal(service)),
                {"name": "ONWARD_METRICS_PORT", "value": str(METRICS_PORT)}]
    if (service, process) == ("la_tracker", "worker"):
        env += [_secret("ONWARD_NOTIFY_API_KEY", "notify-api-key"),
                *({"name": k, "value": v} for k, v in LA_TRACKER_MESSAGES.items())]
    return env


def _security() -> dict:
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
            "runAsUser": 10001, "capabilities": {"drop": ["ALL"]}}


def _migrate(service: str) -> dict:
    """Init container: the service's migrations before this pod's version serves. Re-runnable (applied
    files are skipped), serialised by an advisory lock across pods, refused if an applied file was edited.
    It connects directly to PostgreSQL (never through a transaction-mode pooler: the lock is per session)."""
    requests, limits = RESOURCES_MIGRATE
    return {"name": "migrate", "image": IMAGE, "args": ["migrate", service],
            "env": [_secret("DATABASE_URL", f"{service}-migrate-url"), {"name": "ONWARD_LOG_LEVEL", "value": "INFO"}],
            "resources": {"requests": requests, "limits": limits}, "securityContext": _security()}


def _probes(process: str, port: int) -> dict:
    """APIs: alive while they answer, ready while Postgres answers. Workers: alive while the consumer makes
    progress (/healthz on the metrics port: onward/liveness.py). Relays: alive while they answer."""
    def http(path: str, **timing: int) -> dict:
        return {"httpGet": {"path": path, "port": port}, **timing}

    live, ready = {"api": ("/healthz", "/readyz"), "worker": ("/healthz", "/healthz"),
                   "relay": ("/metrics", "/metrics")}[process]
    return {"livenessProbe": http(live, periodSeconds=10, timeoutSeconds=3, failureThreshold=3),
            "readinessProbe": http(ready, periodSeconds=5, timeoutSeconds=5, failureThreshold=2),
            "startupProbe": http("/healthz" if process == "api" else "/metrics", periodSeconds=2, failureThreshold=60)}


def _spread(labels: dict) -> list[dict]:
    """Replicas across zones, then nodes: one zone or node lost never takes every replica."""
    return [{"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
             "labelSelector": {"matchLabels": labels}}
            for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")]


def deployment(service: str, process: str) -> dict:
    port = SERVICES[service].port if process == "api" else METRICS_PORT
    args = ["serve", service, process] + (["--port", str(port), "--host", "0.0.0.0"] if process == "api"
                                          else ["--host", "0.0.0.0"])
    requests, limits = RESOURCES_LA_WORKER if (service, process) == ("la_tracker", "worker") else RESOURCES[process]
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    volumes = [{"name": "tmp", "emptyDir": {}}]
    if process != "api":
        mounts.append({"name": "kafka-ca", "mountPath": KAFKA_CA_DIR, "readOnly": True})
        volumes.append({"name": "kafka-ca", "secret": {"secretName": platform.CA_SECRET,
                                                       "items": [{"key": "ca.crt", "path": "ca.crt"}]}})
    labels = _labels(service, process)
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": _name(service, process), "labels": labels},
        "spec": {
            "replicas": REPLICAS[process],
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    # Workers leave their consumer group cleanly on SIGTERM; 30 s covers a batch in flight.
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                    "topologySpreadConstraints": _spread(labels),
                    "initContainers": [_migrate(service)],
                    "containers": [{
                        "name": process, "image": IMAGE, "args": args,
                        # `metrics`: the workers' and relays' metrics port, the APIs' internal port (scraped by
                        # the PodMonitor); `http`: the APIs' public port (the Service's target).
                        "ports": ([{"name": "http", "containerPort": port}] if process == "api" else [])
                        + [{"name": "metrics", "containerPort": METRICS_PORT}],
                        "envFrom": [{"configMapRef": {"name": CONFIG}}],
                        "env": _env(service, process),
                        "resources": {"requests": requests, "limits": limits},
                        **_probes(process, port),
                        "securityContext": _security(),
                        "volumeMounts": mounts,
                    }],
                    "volumes": volumes,
                },
            },
        },
    }


def service_of(service: str) -> dict:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": service.replace("_", "-"), "labels": _labels(service, "api")},
            "spec": {"selector": _labels(service, "api"),
                     "ports": [{"name": "http", "port": SERVICES[service].port, "targetPort": "http"}]}}


def pdb(service: str, process: str) -> dict:
    # Relays: one is active (advisory lock), the other stands by; never both down at once by a drain.
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": _name(service, process), "labels": _labels(service, process)},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": _labels(service, process)}}}


def config_map() -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": CONFIG, "labels": LABELS},
            "data": {"ONWARD_ENV": "production", "KAFKA_BOOTSTRAP_SERVERS": platform.BOOTSTRAP,
                     "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
                     "KAFKA_SSL_CAFILE": f"{KAFKA_CA_DIR}/ca.crt",
                     "ONWARD_LOG_LEVEL": "INFO", "ONWARD_DB_POOL_MAX": "10",
                     "ONWARD_DEV_SIGN_IN": "false", "ONWARD_COOKIE_SECURE": "true",
                     "ONWARD_OIDC_ISSUER": "https://login.example.gov.uk", "ONWARD_OIDC_CLIENT_ID": "onward",
                     # la_tracker: each LA's NCCIS DatabaseID from the DfE, LA:DatabaseID (example; set yours).
                     "ONWARD_NCCIS_DATABASE_IDS": "831:123",
                     "ONWARD_RUN_DIR": "/tmp/onward"}}


def documents() -> dict[str, list[dict]]:
    files = {"config.yaml": [config_map()], "kafka-topics.yaml": platform.kafka_topics(LABELS),
             "kafka-users.yaml": platform.kafka_users(LABELS), "pod-monitor.yaml": [platform.pod_monitor(LABELS)],
             "prometheus-rule.yaml": [platform.prometheus_rule(LABELS)]}
    for name in SERVICES:
        for process in ("api", "worker", "relay"):
            docs = [deployment(name, process), pdb(name, process)]
            if process == "api":
                docs.append(service_of(name))
            files[f"{_name(name, process)}.yaml"] = docs
    return files


def render() -> dict[str, str]:
    header = "# Generated by deploy/k8s/render.py from the code's process list, topics and ACLs; edit that, not this.\n"
    out = {name: header + "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs)
           for name, docs in documents().items()}
    out["kustomization.yaml"] = header + yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "labels": [{"pairs": {"app.kubernetes.io/version": "1.0.0"}}],
        "resources": sorted(n for n in out if n != "kustomization.yaml")}, sort_keys=False)
    return out


if __name__ == "__main__":
    BASE.mkdir(parents=True, exist_ok=True)
    rendered = render()
    for stale in set(p.name for p in BASE.glob("*.yaml")) - set(rendered):
        (BASE / stale).unlink()
    for name, text in rendered.items():
        (BASE / name).write_text(text)
    print(f"wrote {len(rendered)} files to {BASE}")
