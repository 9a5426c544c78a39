"""The files API inside a host FastAPI app, with the host's own users.

    from s3files.contrib.fastapi import files_router, s3files_lifespan

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with s3files_lifespan(app):
            yield

    app = FastAPI(lifespan=lifespan)
    app.include_router(files_router(current_owner), prefix="/api/v1")

``current_owner`` is a dependency of the host (over its own ``get_current_user``) that
returns the owner's id as a ``str``. See ``router.py`` and ``examples/fastapi/``.
"""

from s3files.contrib.fastapi.lifespan import s3files_lifespan
from s3files.contrib.fastapi.router import FilesRoute, as_principal, files_router

__all__ = ["FilesRoute", "as_principal", "files_router", "s3files_lifespan"]
