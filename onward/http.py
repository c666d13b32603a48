"""The FastAPI app every service shares: health, readiness, metrics and one JSON error format."""
from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind

from onward import api_docs, telemetry
from onward.consumer import TRANSIENT_ERRORS
from onward.db import create_pool
from onward.limits import BodySizeLimit, Limits, client_of, too_many
from onward.settings import Settings
from schemas import text

log = logging.getLogger(__name__)
# Every response is counted, 5xx included: a handler's exception is observed here as the status its
# exception handler answers with (503 for TRANSIENT_ERRORS, else 500), before it leaves the middleware.
HTTP_LATENCY = Histogram("onward_http_request_duration_seconds", "HTTP request duration, by final status",
                         ["method", "route", "status"])
# Served to anyone only outside production; in production only on ONWARD_INTERNAL_PORT.
INTERNAL_PATHS = ("/docs", "/redoc", "/openapi.json", "/metrics")


def field_errors(exc: RequestValidationError) -> list[dict]:
    """Each bad field by name (dotted path without the 'body' prefix), with a message; never the input."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form")]
        msg = err.get("msg", "invalid")
        out.append({"field": ".".join(loc) or "body", "message": msg.removeprefix("Value error, ")})
    return out


def download(text: str, media_type: str, filename: str) -> Response:
    """A file the browser saves under `filename` (the API's and the pages' downloads alike)."""
    return Response(text, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _observe(request: Request, status: int, start: float) -> None:
    route = request.scope.get("route")
    HTTP_LATENCY.labels(request.method, getattr(route, "path", "unmatched"), str(status)).observe(
        time.perf_counter() - start)


def json_http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def create_app(service: str, settings: Settings, *, title: str, description: str,
               on_metrics: Callable | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.pool = await create_pool(settings.database_url, settings.db_pool_max)
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan, docs_url=None,
                  redoc_url=None)
    app.state.settings = settings
    app.state.service = service  # the audience its bearer tokens must name
    app.state.limits = Limits(settings)
    api_docs.install(app)  # /docs and /redoc from the service's own assets, not a CDN

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": field_errors(exc)}, status_code=422)

    app.add_exception_handler(StarletteHTTPException, json_http_error)

    @app.exception_handler(Exception)
    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        # A database or broker outage (restart, failover) is the client's cue to retry, not a server bug.
        if isinstance(exc, TRANSIENT_ERRORS):
            return JSONResponse({"detail": "temporarily unavailable; retry shortly"}, status_code=503,
                                headers={"Retry-After": "2"})
        # Only the type is logged: exception texts can quote personal data.
        log.error("unhandled error", extra={"error": type(exc).__name__, "path": request.url.path})
        return JSONResponse({"detail": "internal error"}, status_code=500)

    @app.middleware("http")
    async def _plain_query(request: Request, call_next):
        # A control character in a query parameter is a 422 naming it (schemas/text.py), never a 500.
        for name, value in request.query_params.multi_items():
            if text.has_control_character(name) or text.has_control_character(value):
                field = "query" if text.has_control_character(name) else name
                return JSONResponse({"detail": [{"field": field, "message": text.MESSAGE}]}, status_code=422)
        return await call_next(request)

    @app.middleware("http")
    async def _timing(request: Request, call_next):
        start = time.perf_counter()
        # The caller's trace (W3C traceparent), continued here and into every event this request causes.
        token = otel_context.attach(telemetry.from_http(request.headers))
        try:
            with telemetry.tracer.start_as_current_span(f"{request.method} {request.url.path}", kind=SpanKind.SERVER):
                response = await call_next(request)
        except Exception as exc:  # answered by _unavailable outside this middleware: count it here
            _observe(request, 503 if isinstance(exc, TRANSIENT_ERRORS) else 500, start)
            raise
        finally:
            otel_context.detach(token)
        _observe(request, response.status_code, start)
        return response

    install_guards(app, settings)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict:
        return {"status": "alive", "service": service}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        """Ready when Postgres answers. Not Kafka: the API only writes the outbox (the relay publishes),
        so a broker outage must not take writes out of service."""
        ok = False
        try:
            ok = bool(await request.app.state.pool.fetchval("select true", timeout=3))
        except Exception:
            pass
        return JSONResponse({"ready": ok, "database": ok}, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        if on_metrics:
            await on_metrics(request.app)  # gauges computed from the database at scrape time
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def internal_only(settings: Settings, scope) -> bool:
    """In production, API documentation and metrics answer only on the internal port."""
    if settings.env != "production" or not scope["path"].startswith(INTERNAL_PATHS):
        return False
    server = scope.get("server") or (None, None)
    return settings.internal_port is None or server[1] != settings.internal_port


def install_guards(app: FastAPI, settings: Settings) -> None:
    """Body-size limit, internal endpoints, the failed-token rate limit and `no-store` on API answers."""

    @app.middleware("http")
    async def _guards(request: Request, call_next):
        if internal_only(settings, request.scope):
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        api = request.url.path.startswith("/v1")
        failed = request.app.state.limits.failed_tokens
        if api and (wait := failed.retry_after(client_of(request))) is not None:
            return json_http_error(request, too_many("failed sign-in attempts", wait))
        response = await call_next(request)
        if api and response.status_code == 401:
            failed.hit(client_of(request))
        if not request.url.path.startswith(("/static", "/assets")):
            response.headers.setdefault("Cache-Control", "no-store")  # answers hold personal data
        return response

    app.add_middleware(BodySizeLimit, json_bytes=settings.max_json_bytes, upload_bytes=settings.max_upload_bytes)
