"""``/docs`` (Swagger UI) and ``/redoc`` with no internet: their scripts and styles come
from the ``fastapi-offline`` package (Swagger UI's and Redoc's dist files) and are served
by the service at ``/docs-assets/``; the pages start them with ``static/docs.js``, so no
inline script is needed and each page sends a CSP that allows this origin only."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["DOCS_CSP", "PAGE_CSP", "SECURITY_HEADERS", "install_docs"]

# Swagger UI and Redoc set style attributes and Redoc styles with <style> elements it makes
# (hence 'unsafe-inline' for styles only); no script runs that this service did not serve.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
# The web file manager: its own scripts and styles only; uploads, downloads and previews
# talk to the store, whose origin is not known here (hence http: https: for those).
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob: http: https:; connect-src 'self' http: https:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="icon" href="static/icon.svg" type="image/svg+xml">
  {css}
</head>
<body>
  <div id="{element}" data-openapi="openapi.json"></div>
  <script src="docs-assets/{script}"></script>
  <script src="static/docs.js"></script>
</body>
</html>
"""


def _assets() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def _page(title: str, element: str, script: str, css: str = "") -> HTMLResponse:
    html = _PAGE.format(title=title, element=element, script=script, css=css)
    headers = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": DOCS_CSP,
        "Cache-Control": "no-cache",
    }
    return HTMLResponse(html, headers=headers)


def install_docs(app: FastAPI) -> None:
    """``/docs``, ``/redoc`` and their assets (create the app with ``docs_url=None``)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        css = '<link rel="stylesheet" href="docs-assets/swagger-ui.css">'
        return _page("s3files API", "swagger-ui", "swagger-ui-bundle.js", css)

    @router.get("/redoc")
    async def redoc() -> HTMLResponse:
        return _page("s3files API (Redoc)", "redoc", "redoc.standalone.js")

    app.include_router(router)
    app.mount("/docs-assets", StaticFiles(directory=_assets()), name="docs-assets")
