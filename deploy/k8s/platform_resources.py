"""Platform resources for deploy/k8s/render.py: Strimzi KafkaTopic and KafkaUser resources, generated from
the code's topic registry (schemas/topics.py) and ACL list (onward/kafka_security.py), and a PodMonitor.

Kafka is a Strimzi cluster named `onward` (3 brokers) with a TLS listener on 9093 using SCRAM-SHA-512:
its bootstrap Service is `onward-kafka-bootstrap`, its cluster CA certificate is the Secret
`onward-cluster-ca-cert` (key `ca.crt`), and the User Operator writes each KafkaUser's password into a
Secret of the user's name (key `password`). Apply these in the namespace the Strimzi operators watch.
"""
from __future__ import annotations

from onward.kafka_admin import topic_config
from onward.kafka_security import acl_rules
from schemas.topics import ALL_TOPICS

KAFKA_CLUSTER = "onward"
BOOTSTRAP = f"{KAFKA_CLUSTER}-kafka-bootstrap:9093"
CA_SECRET = f"{KAFKA_CLUSTER}-cluster-ca-cert"
STRIMZI = "kafka.strimzi.io/v1beta2"
PARTITIONS = 12  # the most worker replicas that can share a topic; the region overlay raises it
REPLICAS = 3
TOPIC_CONFIG = topic_config(REPLICAS)  # the same retention and min.insync.replicas=2 as `onward prepare` sets


def _meta(name: str, labels: dict, **extra: str) -> dict:
    return {"name": name, "labels": {**labels, "strimzi.io/cluster": KAFKA_CLUSTER, **extra}}


def kafka_topics(labels: dict) -> list[dict]:
    """One KafkaTopic per registered topic: events with PARTITIONS partitions, dead-letter topics with one."""
    out = []
    for topic in ALL_TOPICS:
        dlq = topic.endswith(".dlq")
        out.append({"apiVersion": STRIMZI, "kind": "KafkaTopic",
                    "metadata": _meta(topic, labels, **{"onward.gov.uk/topic-kind": "dlq" if dlq else "events"}),
                    "spec": {"topicName": topic, "partitions": 1 if dlq else PARTITIONS, "replicas": REPLICAS,
                             "config": dict(TOPIC_CONFIG)}})
    return out


def kafka_users(labels: dict) -> list[dict]:
    """One KafkaUser per principal (each service its own, and the intake integrations'), SCRAM-SHA-512,
    with exactly the ACLs of onward/kafka_security.py."""
    return [{"apiVersion": STRIMZI, "kind": "KafkaUser", "metadata": _meta(user, labels),
             "spec": {"authentication": {"type": "scram-sha-512"},
                      "authorization": {"type": "simple", "acls": [
                          {"resource": {"type": kind, "name": name, "patternType": "literal"},
                           "operations": list(ops)} for kind, name, ops in rules]}}}
            for user, rules in acl_rules().items()]


def pod_monitor(labels: dict) -> dict:
    """Prometheus Operator scrapes every Onward pod on its `metrics` port: the workers' and relays' metrics
    port, the APIs' internal port (ONWARD_INTERNAL_PORT: in production /metrics answers only there, never on
    the public `http` port)."""
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
            "metadata": {"name": "onward", "labels": labels},
            "spec": {"selector": {"matchLabels": labels},
                     "podMetricsEndpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s"}]}}


# The alerts of docs/operations.md (section 8), deployable: (name, PromQL, for, severity, summary).
ALERTS = [
    ("OnwardConsumerLag", "max by (group) (onward_consumer_lag_records) > 0", "10m", "warning",
     "records have waited 10 minutes for {{ $labels.group }}: not keeping up, down or stalled"),
    ("OnwardOutboxNotPublishing", "max(onward_outbox_oldest_unpublished_seconds) > 60", "5m", "critical",
     "committed events are not reaching Kafka"),
    ("OnwardDeadLetters", 'increase(onward_events_consumed_total{result="dead_lettered"}[15m]) > 0', "0m", "warning",
     "records were dead-lettered"),
    ("OnwardHttp5xx", 'sum by (job) (rate(onward_http_request_duration_seconds_count{status=~"5.."}[5m])) > 0', "5m",
     "warning", "server errors (503: the database was unreachable)"),
    ("OnwardMessagesNotSent", 'sum(increase(onward_young_person_messages_total{result="failed"}[1h])) > 0', "0m",
     "warning", "messages to young people were given up on (docs/operations.md section 8a)"),
    ("OnwardMessagesWaiting", "min(onward_young_person_messages_waiting) > 0", "2h", "warning",
     "messages to young people have waited over 2 hours (GOV.UK Notify refusing, or the budget too low)"),
    ("OnwardWorkerRestarts", 'increase(kube_pod_container_status_restarts_total{container="worker"}[30m]) > 2', "0m",
     "warning", "a worker keeps being restarted by its liveness probe (stalled consumer)"),
]


def prometheus_rule(labels: dict) -> dict:
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": {"name": "onward", "labels": labels},
            "spec": {"groups": [{"name": "onward", "rules": [
                {"alert": name, "expr": expr, "for": duration, "labels": {"severity": severity},
                 "annotations": {"summary": summary, "runbook": "docs/operations.md section 8"}}
                for name, expr, duration, severity, summary in ALERTS]}]}}
