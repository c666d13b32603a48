"""API documentation that works without internet access: /docs (Swagger UI) and /redoc (ReDoc).

FastAPI's own pages load their script and style from a CDN, so they are blank offline and break under
the pages' Content-Security-Policy. These pages load the same tools from npm packages instead
(`swagger-ui-dist` 5.x, which renders the OpenAPI 3.1 documents FastAPI writes, and `redoc`'s standalone
bundle), copied into web/dist/api-docs by web/build.mjs and served by the service itself.
"""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from onward.settings import WEB_DIST

ASSETS = "/api-docs"
# Both tools inject style elements and ReDoc searches in a blob: worker; scripts still come only from here.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
       " worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>{head}</head>
<body>{body}</body></html>"""


def _page(title: str, head: str, body: str) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=title, head=head, body=body),
                        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"})


def install(app: FastAPI) -> None:
    """Serve /docs and /redoc from the service's own copy of the assets (create the app with docs_url=None
    and redoc_url=None so FastAPI's CDN pages are not registered)."""
    app.mount(ASSETS, StaticFiles(directory=WEB_DIST / "api-docs", check_dir=False), name="api-docs")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _page(f"{app.title} – API documentation",
                     f'<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">',
                     f'<div id="swagger-ui" data-openapi="{app.openapi_url}"></div>'
                     f'<script src="{ASSETS}/swagger-ui-bundle.js"></script><script src="{ASSETS}/api-docs.js"></script>')

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _page(f"{app.title} – API reference", "",
                     f'<redoc spec-url="{app.openapi_url}"></redoc><script src="{ASSETS}/redoc.standalone.js"></script>')
