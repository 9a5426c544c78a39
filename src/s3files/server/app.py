"""``create_app(settings)``: the FastAPI application of ``s3files serve``.

The lifespan opens the database (``open_database``: folder, engine, migrations) and the
store; nothing is created at import time. ``limits`` (default: from the ``S3FILES_*``
variables of ``s3files.server.limits``) bound the work in flight and what a request may
send; ``RequestLimitsMiddleware`` applies the latter before anything else runs. The
OpenAPI document (``/openapi.json``) tells the errors each route really answers
(``errors.document_errors``; how a route declares its own: ``server/errors.py``).

To serve the API inside another FastAPI app::

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

import anyio
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from s3files import __version__
from s3files.server.auth import Authenticator
from s3files.server.buckets.endpoints import router as buckets_router
from s3files.server.buckets.service import ServiceConnector
from s3files.server.db.bootstrap import open_database
from s3files.server.db.session import session_factory
from s3files.server.docs import PAGE_CSP, SECURITY_HEADERS, install_docs
from s3files.server.errors import document_errors, install_error_handlers
from s3files.server.failpoints import Failpoints
from s3files.server.files.endpoints import router as files_router
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
from s3files.server.quotas.endpoints import router as quotas_router
from s3files.server.request_limits import RequestLimitsMiddleware
from s3files.server.settings import ServiceSettings, load_service_settings
from s3files.server.state import AppState
from s3files.server.uploads.endpoints import router as uploads_router
from s3files.store import AsyncFileStore, FileStore

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
    return router


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
        engine = await open_database(
            settings, pool_size=limits.pool_size(), pool_timeout=limits.db_pool_timeout
        )
        # a transfer keeps one worker thread busy for its length: room for every admitted
        # transfer, and more for the short store calls beside them
        threads = anyio.CapacityLimiter(limits.max_transfers + 32)
        files = AsyncFileStore(FileStore.from_settings(settings), limiter=threads)
        connector = ServiceConnector(settings)
        app.state.s3files = AppState(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            files=files,
            authenticator=Authenticator(settings),
            metrics=metrics,
            connector=connector,
            limits=limits,
            failpoints=failpoints,
        )
        try:
            yield
        finally:
            await connector.aclose()
            await files.aclose()
            await app.state.s3files.reads.aclose()
            await engine.dispose()

    app = FastAPI(
        title="s3files",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served offline by install_docs
        redoc_url=None,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Range",
                "If-None-Match",
                "Idempotency-Key",
            ],
            expose_headers=[
                "ETag",
                "Content-Range",
                "Content-Disposition",
                "Content-Length",
                "Idempotent-Replayed",
                "Retry-After",
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
