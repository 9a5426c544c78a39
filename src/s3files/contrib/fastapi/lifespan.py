"""``s3files_lifespan(app)``: the s3files state (database, store) of a host app, for the
host's own lifespan to compose with what it opens itself.

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with s3files_lifespan(app):   # the database is migrated, the store opened
            yield

The state is put where the files router looks for it (``app.state.s3files``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from s3files.server.limits import ServiceLimits
from s3files.server.settings import ServiceSettings, load_service_settings
from s3files.server.state import AppState, open_app_state

__all__ = ["s3files_lifespan"]


@asynccontextmanager
async def s3files_lifespan(
    app: FastAPI,
    settings: ServiceSettings | None = None,
    *,
    limits: ServiceLimits | None = None,
) -> AsyncIterator[AppState]:
    """Open the state of ``settings`` (default: the ``S3FILES_*``/``S3_*`` environment,
    as ``s3files serve`` reads it) on ``app`` for as long as the block runs."""
    settings = settings or load_service_settings()
    async with open_app_state(settings, limits=limits) as state:
        app.state.s3files = state
        try:
            yield state
        finally:
            del app.state.s3files
