"""``create_app(settings)``: the FastAPI application of ``s3files serve``.

The lifespan opens the database (``open_database``: folder, engine, migrations) and the
store; nothing is created at import time. ``limits`` (default: from the ``S3FILES_*``
variables of ``s3files.server.limits``) bound the work in flight and what a request may
send; ``RequestLimitsMiddleware`` applies the latter before anything else runs. The
OpenAPI document (``/openapi.json``) tells the errors each route really answers
(``errors.document_errors``; how a route declares its own: ``server/errors.py``).

To give another FastAPI app the files API with that app's own users, include the router
of ``s3files.contrib.fastapi`` instead (``files_router``, ``s3files_lifespan``); or mount
the whole service::

    files_app = create_app(settings)

    @asynccontextmanager
    async def lifespan(app):
        async with files_app.router.lifespan_context(files_app):
            yield

    host = FastAPI(lifespan=lifespan)
    host.mount("/storage", files_app)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from s3files import __version__
from s3files.server.buckets.endpoints import router as buckets_router
from s3files.server.docs import PAGE_CSP, SECURITY_HEADERS, install_docs
from s3files.server.errors import document_errors, install_error_handlers
from s3files.server.failpoints import Failpoints
from s3files.server.files.endpoints import get_file
from s3files.server.files.endpoints import router as files_router
from s3files.server.files.record_read import RecordReadShortcut
from s3files.server.folders.endpoints import files_batch_router
from s3files.server.folders.endpoints import router as folders_router
from s3files.server.folders.zip_endpoints import files_zip_router, folders_zip_router
from s3files.server.folders.zip_links import zip_links_router
from s3files.server.health import router as health_router
from s3files.server.info import router as info_router
from s3files.server.limits import ServiceLimits
from s3files.server.local_store import router as local_store_router
from s3files.server.logs import configure_logging
from s3files.server.metrics import Metrics, MetricsMiddleware
from s3files.server.previews.endpoints import router as previews_router
from s3files.server.protocols.companion.endpoints import router as companion_router
from s3files.server.protocols.companion.sweeper import with_sweeper
from s3files.server.protocols.tus.endpoints import router as tus_router
from s3files.server.quotas.endpoints import router as quotas_router
from s3files.server.request_limits import RequestLimitsMiddleware
from s3files.server.settings import ServiceSettings, load_service_settings
from s3files.server.state import open_app_state
from s3files.server.uploads.endpoints import router as uploads_router

__all__ = ["api_router", "create_app"]

STATIC = Path(__file__).parent / "static"

DESCRIPTION = """
File management over S3-compatible stores and the local disk.

Authenticate with `Authorization: Bearer <key>`; create keys with
`s3files keys create --owner NAME`. Every error is JSON: `{"error": "<code>", "detail": "…"}`.
"""


def api_router() -> APIRouter:
    """Every ``/api/v1`` route (paths include ``/api/v1``), to include in another app."""
    router = APIRouter()
    router.include_router(files_batch_router)
    router.include_router(files_zip_router)
    router.include_router(folders_zip_router)
    router.include_router(zip_links_router)
    router.include_router(files_router)
    router.include_router(previews_router)
    router.include_router(folders_router)
    router.include_router(quotas_router)
    router.include_router(buckets_router)
    router.include_router(uploads_router)
    router.include_router(info_router)
    router.include_router(companion_router)
    router.include_router(tus_router)
    return router


def _route_of(endpoint: Any) -> APIRoute:
    """The files route that ``endpoint`` answers."""
    found = [r for r in files_router.routes if isinstance(r, APIRoute) and r.endpoint is endpoint]
    return found[0]


def create_app(
    settings: ServiceSettings | None = None,
    *,
    limits: ServiceLimits | None = None,
    failpoints: Failpoints | None = None,
) -> FastAPI:
    """The service for ``settings`` (default: from the environment).

    ``failpoints`` (crash tests only) default to ``Failpoints.from_environment()``, which
    arms nothing unless ``S3FILES_FAILPOINTS_ENABLED=1``."""
    settings = settings or load_service_settings()
    limits = limits or ServiceLimits.from_environment()
    failpoints = failpoints or Failpoints.from_environment()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level)
        async with open_app_state(
            settings, limits=limits, failpoints=failpoints, metrics=metrics
        ) as state:
            app.state.s3files = state
            yield

    app = FastAPI(
        title="s3files",
        version=__version__,
        description=DESCRIPTION,
        # the sweeper records small files Uppy sent by form (every replica runs one)
        lifespan=with_sweeper(lifespan, settings.companion_sweep_seconds),
        docs_url=None,  # served offline by install_docs
        redoc_url=None,
    )
    # innermost: GET /api/v1/files/{id} answered without routing (files/record_read.py)
    app.add_middleware(RecordReadShortcut, route=_route_of(get_file))
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Range",
                "If-None-Match",
                "Idempotency-Key",
                # Uppy's Companion client, and tus clients
                "Uppy-Versions",
                "Tus-Resumable",
                "Upload-Length",
                "Upload-Offset",
                "Upload-Metadata",
                "Upload-Checksum",
                "Upload-Defer-Length",
                "Upload-Concat",
                "X-HTTP-Method-Override",
                "X-Requested-With",
            ],
            expose_headers=[
                "ETag",
                "Content-Range",
                "Content-Disposition",
                "Content-Length",
                "Idempotent-Replayed",
                "Retry-After",
                "Location",
                "Tus-Resumable",
                "Tus-Version",
                "Tus-Extension",
                "Tus-Max-Size",
                "Tus-Checksum-Algorithm",
                "Upload-Offset",
                "Upload-Length",
                "Upload-Metadata",
                "Upload-Expires",
                "S3files-File-Id",
            ],
            max_age=3000,
        )
    app.add_middleware(RequestLimitsMiddleware, limits=limits)  # last added: outermost
    install_error_handlers(app, retry_after=limits.retry_after)
    document_errors(app)  # wraps app.openapi: its routes may be included after this
    app.include_router(api_router())
    app.include_router(health_router)
    app.include_router(local_store_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_docs(app)

    @app.get("/", include_in_schema=False)
    async def file_manager() -> FileResponse:
        """The web file manager (static/index.html; no build step)."""
        headers = {
            **SECURITY_HEADERS,
            "Content-Security-Policy": PAGE_CSP,
            "Cache-Control": "no-cache",
        }
        return FileResponse(STATIC / "index.html", headers=headers)

    return app
