"""The one way to open the service's database: make the SQLite folder, create the engine,
apply the migrations. Used by the app's lifespan and by every CLI command.

    engine = await open_database(settings)
    try:
        ...
    finally:
        await engine.dispose()
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from s3files.server.db.migrate import upgrade
from s3files.server.db.session import create_engine
from s3files.server.settings import ServiceSettings

__all__ = ["open_database"]


def _make_sqlite_folder(settings: ServiceSettings, url: str) -> None:
    """The data folder (where SQLite lives by default) and the database file's folder."""
    if not url.startswith("sqlite"):
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


async def open_database(
    settings: ServiceSettings,
    *,
    pool_size: int = 10,
    pool_timeout: float = 10.0,
    migrate: bool = True,
) -> AsyncEngine:
    """An engine on ``settings.database()``, migrated to the newest schema."""
    url = settings.database()
    _make_sqlite_folder(settings, url)
    engine = create_engine(url, pool_size=pool_size, pool_timeout=pool_timeout)
    if migrate:
        try:
            await upgrade(engine)
        except BaseException:
            await engine.dispose()
            raise
    return engine
