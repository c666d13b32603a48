"""Traces across the three services (OpenTelemetry), and the handoff clock.

The W3C `traceparent` (and `baggage`) travel in HTTP headers into school_exit and in Kafka record
headers between services: `outbox.add` stores the current context with each event, the relay
publishes it, and each stream worker continues the trace while it applies the event. So one leaver's
journey (POST at school_exit -> case at la_tracker -> referral at ncs_referral) is one trace. These
headers hold random ids and a timestamp only, never personal data.

Spans are made by the OpenTelemetry SDK; exporting them is optional and off by default: set
OTEL_EXPORTER_OTLP_ENDPOINT (and install the `otel` extra) to send them to a collector.

The baggage item `onward.accepted_at` (epoch seconds at the HTTP edge) lets ncs_referral observe
the handoff latency (request accepted -> referral written) in a histogram.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from opentelemetry import baggage, context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

ACCEPTED_AT = "onward.accepted_at"
CARRIED = ("traceparent", "tracestate", "baggage")
log = logging.getLogger(__name__)
tracer = trace.get_tracer("onward")


def configure(service: str) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": f"onward-{service}"}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError:
            log.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but the exporter is not installed: pip install '.[otel]'")
        else:
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


# The trace context of each event a worker is applying (set by onward/stream.py for a batch).
_EVENT_CONTEXTS: ContextVar[dict[int, context.Context]] = ContextVar("onward_event_contexts", default={})


def set_event_contexts(contexts: dict[int, context.Context]) -> None:
    _EVENT_CONTEXTS.set(contexts)


@contextmanager
def event_context(event: object) -> Iterator[None]:
    """Make `event`'s producer trace current (so the events it causes carry it on)."""
    token = context.attach(_EVENT_CONTEXTS.get().get(id(event)) or context.get_current())
    try:
        yield
    finally:
        context.detach(token)


def inject() -> dict[str, str]:
    """The current trace context and baggage as headers (empty when there is no trace)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def from_http(headers) -> context.Context:
    """The caller's trace context, if it sent one, with the handoff clock started now (never the caller's)."""
    ctx = propagate.extract({k: headers[k] for k in CARRIED if k in headers})
    return baggage.set_baggage(ACCEPTED_AT, f"{time.time():.6f}", ctx)


def from_kafka(headers: Iterable[tuple[str, bytes]] | None) -> context.Context:
    carrier = {k: v.decode("ascii", "replace") for k, v in (headers or ()) if k in CARRIED and v is not None}
    return propagate.extract(carrier)


def accepted_at() -> float | None:
    value = baggage.get_baggage(ACCEPTED_AT)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def trace_id() -> str | None:
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None
