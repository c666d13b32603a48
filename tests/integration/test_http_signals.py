"""The API's own signals against real PostgreSQL: a database outage is a counted 5xx, and readiness
depends on the database only (a broker outage must not take writes that only need Postgres away)."""
import uuid

import httpx
from prometheus_client import REGISTRY

from onward.settings import Settings
from services.school_exit.api import build_app

ROUTE = "/v1/leavers/{leaver_id}"


def _count(status: str) -> float:
    return REGISTRY.get_sample_value("onward_http_request_duration_seconds_count",
                                     {"method": "GET", "route": ROUTE, "status": status}) or 0.0


async def test_a_database_outage_is_answered_503_and_counted_as_a_5xx(databases, tokens):
    app = build_app(Settings(database_url=databases["school_exit"]))
    # The app's exception handler answers outside the middlewares and then re-raises: keep the answer.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        before = _count("503")
        app.state.pool.terminate()  # the database connections are gone, as in a failover
        r = await http.get(f"/v1/leavers/{uuid.uuid4()}", headers=tokens("school", laestab="8314001"))
        assert r.status_code == 503 and r.headers["retry-after"]
        assert _count("503") == before + 1
        ready = await http.get("/readyz")
        assert ready.status_code == 503 and ready.json() == {"ready": False, "database": False}


async def test_readiness_needs_postgres_and_not_kafka(databases):
    unreachable_broker = Settings(database_url=databases["school_exit"], kafka_bootstrap_servers="127.0.0.1:9")
    app = build_app(unreachable_broker)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                                   base_url="http://t") as http:
        r = await http.get("/readyz")
    assert r.status_code == 200 and r.json() == {"ready": True, "database": True}
