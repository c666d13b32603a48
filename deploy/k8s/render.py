"""Writes the Kubernetes base manifests (deploy/k8s/base) from the code's own process list.

    .venv/bin/python deploy/k8s/render.py       # rewrite deploy/k8s/base/*.yaml

The manifests are checked in (operators read and kustomize them); tests/unit/test_deploy.py fails
when they differ from what this script renders, and validates them with kubernetes-validate.
Resource figures come from `make bench` (docs/performance.md): the la_tracker worker peaked at
177 MB RSS (the postcode directory is 55 MB of it), every other process at or under 119 MB.
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from onward.processes import SERVICES  # noqa: E402

BASE = Path(__file__).resolve().parent / "base"
IMAGE = "onward:1.0.0"
METRICS_PORT = 9100
LABELS = {"app.kubernetes.io/part-of": "onward"}
CONFIG = "onward-config"
SECRETS = "onward-secrets"  # created by the operator (or an external secrets operator); never in this repo

# (requests, limits) per process kind, from the benchmark's peak RSS with headroom.
RESOURCES = {
    "api": ({"cpu": "100m", "memory": "160Mi"}, {"cpu": "1", "memory": "320Mi"}),
    "worker": ({"cpu": "250m", "memory": "160Mi"}, {"cpu": "1", "memory": "320Mi"}),
    "relay": ({"cpu": "100m", "memory": "96Mi"}, {"cpu": "500m", "memory": "192Mi"}),
}
RESOURCES_LA_WORKER = ({"cpu": "250m", "memory": "256Mi"}, {"cpu": "1", "memory": "400Mi"})
REPLICAS = {"api": 2, "worker": 2, "relay": 2}


def _labels(service: str, process: str) -> dict:
    return {**LABELS, "app.kubernetes.io/name": f"onward-{service.replace('_', '-')}",
            "app.kubernetes.io/component": process}


def _name(service: str, process: str) -> str:
    return f"{service.replace('_', '-')}-{process}"


def _env(service: str) -> list[dict]:
    return [
        {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": SECRETS, "key": f"{service}-database-url"}}},
        {"name": "ONWARD_JWT_SECRET", "valueFrom": {"secretKeyRef": {"name": SECRETS, "key": "jwt-secret"}}},
        {"name": "ONWARD_PERSON_KEY_SECRET", "valueFrom": {"secretKeyRef": {"name": SECRETS, "key": "person-key-secret"}}},
    ]


def _security() -> dict:
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
            "runAsUser": 10001, "capabilities": {"drop": ["ALL"]}}


def deployment(service: str, process: str) -> dict:
    port = SERVICES[service].port if process == "api" else METRICS_PORT
    probe_path = ("/healthz", "/readyz") if process == "api" else ("/metrics", "/metrics")
    args = ["serve", service, process] + (["--port", str(port), "--host", "0.0.0.0"] if process == "api"
                                          else ["--host", "0.0.0.0"])
    requests, limits = RESOURCES_LA_WORKER if (service, process) == ("la_tracker", "worker") else RESOURCES[process]
    env = _env(service) + ([{"name": "ONWARD_METRICS_PORT", "value": str(METRICS_PORT)}] if process != "api" else [])
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": _name(service, process), "labels": _labels(service, process)},
        "spec": {
            "replicas": REPLICAS[process],
            "selector": {"matchLabels": _labels(service, process)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": _labels(service, process), "annotations": {
                    "prometheus.io/scrape": "true", "prometheus.io/port": str(port), "prometheus.io/path": "/metrics"}},
                "spec": {
                    # Workers leave their consumer group cleanly on SIGTERM; 30 s covers a batch in flight.
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": process, "image": IMAGE, "args": args,
                        "ports": [{"name": "http" if process == "api" else "metrics", "containerPort": port}],
                        "envFrom": [{"configMapRef": {"name": CONFIG}}],
                        "env": env,
                        "resources": {"requests": requests, "limits": limits},
                        "livenessProbe": {"httpGet": {"path": probe_path[0], "port": port}, "periodSeconds": 10,
                                          "timeoutSeconds": 3, "failureThreshold": 3},
                        "readinessProbe": {"httpGet": {"path": probe_path[1], "port": port}, "periodSeconds": 5,
                                           "timeoutSeconds": 5, "failureThreshold": 2},
                        "startupProbe": {"httpGet": {"path": probe_path[0], "port": port}, "periodSeconds": 2,
                                         "failureThreshold": 60},
                        "securityContext": _security(),
                        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                    }],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
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
            "data": {"ONWARD_ENV": "production", "KAFKA_BOOTSTRAP_SERVERS": "kafka-bootstrap:9092",
                     "ONWARD_TOPIC_PARTITIONS": "12", "ONWARD_TOPIC_REPLICATION": "3", "ONWARD_LOG_LEVEL": "INFO", "ONWARD_DB_POOL_MAX": "10",
                     "ONWARD_DEV_SIGN_IN": "false", "ONWARD_COOKIE_SECURE": "true",
                     "ONWARD_OIDC_ISSUER": "https://login.example.gov.uk", "ONWARD_OIDC_CLIENT_ID": "onward",
                     "ONWARD_RUN_DIR": "/tmp/onward"}}


def prepare_job() -> dict:
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "onward-prepare", "labels": {**LABELS, "app.kubernetes.io/component": "prepare"}},
        "spec": {"backoffLimit": 6, "ttlSecondsAfterFinished": 86400, "template": {
            "metadata": {"labels": {**LABELS, "app.kubernetes.io/component": "prepare"}},
            "spec": {
                "restartPolicy": "OnFailure",
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{
                    "name": "prepare", "image": IMAGE, "args": ["prepare"],
                    "envFrom": [{"configMapRef": {"name": CONFIG}}],
                    "env": [{"name": "ONWARD_PG_URL", "valueFrom": {"secretKeyRef": {"name": SECRETS,
                                                                                      "key": "postgres-admin-url"}}}],
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                                  "limits": {"cpu": "500m", "memory": "256Mi"}},
                    "securityContext": _security(),
                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                }],
                "volumes": [{"name": "tmp", "emptyDir": {}}],
            }}},
    }


def documents() -> dict[str, list[dict]]:
    files = {"config.yaml": [config_map()], "prepare-job.yaml": [prepare_job()]}
    for name in SERVICES:
        for process in ("api", "worker", "relay"):
            docs = [deployment(name, process), pdb(name, process)]
            if process == "api":
                docs.append(service_of(name))
            files[f"{_name(name, process)}.yaml"] = docs
    return files


def render() -> dict[str, str]:
    header = "# Generated by deploy/k8s/render.py from the code's process list; edit that, not this.\n"
    out = {name: header + "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs)
           for name, docs in documents().items()}
    out["kustomization.yaml"] = header + yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "labels": [{"pairs": {"app.kubernetes.io/version": "1.0.0"}}],
        "resources": sorted(n for n in out if n != "kustomization.yaml")}, sort_keys=False)
    return out


if __name__ == "__main__":
    BASE.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (BASE / name).write_text(text)
    print(f"wrote {len(render())} files to {BASE}")
