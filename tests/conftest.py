"""Shared fixtures. Unit tests need none of them; integration and e2e tests get real infrastructure."""
from __future__ import annotations

import uuid

import pytest

from onward.auth import issue_token
from onward.settings import Settings


@pytest.fixture(scope="session")
def infra():
    from tests.infra import start_infra

    infra = start_infra()
    yield infra
    infra.stop()


@pytest.fixture(scope="session")
async def databases(infra):
    """One fresh database per service for this test session (random prefix), each owned by the service's
    own role (the URLs connect as it), dropped with the role afterwards."""
    from onward.db import drop_service_database
    from onward.processes import SERVICES, prepare

    prefix = f"t{uuid.uuid4().hex[:8]}"
    urls = await prepare(infra.pg_server, infra.kafka, partitions=3, prefix=prefix)
    yield urls
    for spec in SERVICES.values():
        await drop_service_database(infra.pg_server, spec.database(prefix))


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def tokens(settings):
    secret = settings.jwt_secret.get_secret_value()

    def make(role: str, **scope) -> dict:
        return {"Authorization": "Bearer " + issue_token(secret, role=role, **scope)}

    return make
