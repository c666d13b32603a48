"""/docs and /redoc load nothing from another host: every script and style comes from the service itself."""
import re

import pytest
from fastapi.testclient import TestClient

from onward.http import create_app
from onward.settings import Settings
from onward.web import WEB_DIST

pytestmark = pytest.mark.skipif(not (WEB_DIST / "api-docs").exists(), reason="needs web/dist: make install")


@pytest.mark.parametrize("path, marker", [("/docs", 'id="swagger-ui"'), ("/redoc", "<redoc spec-url")])
def test_api_documentation_pages_load_only_their_own_assets(path, marker):
    client = TestClient(create_app("school_exit", Settings(), title="Onward test", description="test"))
    page = client.get(path)
    assert page.status_code == 200 and marker in page.text
    assert "script-src 'self';" in page.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/api-docs/") for a in assets), assets
    for asset in assets:
        got = client.get(asset)
        assert got.status_code == 200 and len(got.content) > 300, asset
    assert "cdn" not in page.text.lower()
