"""Kafka security for production: SASL/SCRAM over TLS for every client, and deny-by-default ACLs.

Settings (onward/settings.py): KAFKA_SECURITY_PROTOCOL (PLAINTEXT locally, SASL_SSL in production),
KAFKA_SASL_MECHANISM (SCRAM-SHA-512), KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD (secret),
KAFKA_SSL_CAFILE (the CA that signed the brokers' certificates). Every aiokafka client and the faust
workers take their options from here.

ACLs: the broker runs with `allow.everyone.if.no.acl.found=false`; each service's principal
`User:onward-<service>` may read exactly the topics it consumes (and its consumer group), write
exactly the topics it produces and the dead-letter topics of what it consumes; `User:onward-intake`
may only write the intake topic. `onward kafka-acls` prints the `kafka-acls.sh` commands.
"""
from __future__ import annotations

import ssl

from onward.settings import Settings, get_settings
from schemas.topics import CONSUMED_BY, PRODUCED_BY, SERVICES, dlq_topic


def principal(service: str) -> str:
    return f"onward-{service.replace('_', '-')}"


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def client_options(settings: Settings | None = None) -> dict:
    """Keyword arguments for every aiokafka client (producer, consumer, admin)."""
    s = settings or get_settings()
    if s.kafka_security_protocol == "PLAINTEXT":
        return {}
    options = {"security_protocol": s.kafka_security_protocol, "ssl_context": ssl_context(s)}
    if s.kafka_security_protocol.startswith("SASL"):
        options |= {"sasl_mechanism": s.kafka_sasl_mechanism, "sasl_plain_username": s.kafka_sasl_username,
                    "sasl_plain_password": s.kafka_sasl_password.get_secret_value() if s.kafka_sasl_password else None}
    return options


def faust_credentials(settings: Settings):
    if settings.kafka_security_protocol == "PLAINTEXT":
        return None
    import faust

    if settings.kafka_security_protocol == "SSL":
        return faust.SSLCredentials(ssl_context(settings))
    return faust.SASLCredentials(
        username=settings.kafka_sasl_username, mechanism=settings.kafka_sasl_mechanism,
        password=settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else None,
        ssl_context=ssl_context(settings))


READ, WRITE = ("Read", "Describe"), ("Write", "Describe")


def acl_rules() -> dict[str, list[tuple[str, str, tuple[str, ...]]]]:
    """Per principal (user name): the (resource type, name, operations) it is allowed, derived from the topic
    registry. The one source of the kafka-acls commands and of Strimzi's KafkaUser resources (deploy/k8s)."""
    out: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
    for service in SERVICES:
        consumed = sorted(t for t, readers in CONSUMED_BY.items() if service in readers)
        produced = sorted({t for t, writer in PRODUCED_BY.items() if writer == service} | {dlq_topic(t) for t in consumed})
        out[principal(service)] = ([("topic", t, READ) for t in consumed] + [("group", f"onward-{service}", READ)]
                                   + [("topic", t, WRITE) for t in produced])
    out["onward-intake"] = [("topic", t, WRITE) for t in sorted(t for t, w in PRODUCED_BY.items() if w == "intake")]
    return out


def acl_arguments() -> list[list[str]]:
    """Arguments for kafka-acls (org.apache.kafka.tools.AclCommand), one `--add` per principal and right."""
    out: list[list[str]] = []
    for user, rules in acl_rules().items():
        for operations in (READ, WRITE):
            resources = [a for kind, name, ops in rules if ops == operations for a in (f"--{kind}", name)]
            if resources:
                out.append(["--add", "--allow-principal", f"User:{user}",
                            *[a for op in operations for a in ("--operation", op)], *resources])
    return out
