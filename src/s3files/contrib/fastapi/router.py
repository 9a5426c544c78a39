"""``files_router(owner)``: the files API of ``s3files serve`` as a router of the host app,
whose users are the host's.

    async def current_owner(user: User = Depends(get_current_user)) -> str:
        return str(user.id)

    app = FastAPI(lifespan=lifespan)   # composes s3files_lifespan(app)
    app.include_router(files_router(current_owner), prefix=settings.api_v1_prefix)

Every route of the service's API (files, folders, zip, direct uploads, usage: the same
endpoints, not copies) is added without its ``/api/v1``, so the host's prefix takes its
place. Where an endpoint asked for the caller (``deps.current_principal``), it now asks the
host's ``owner`` dependency, which returns the owner's id (a ``str``, at most 255
characters) or a ``Principal`` (``is_admin`` for an admin); its 401 and its security scheme
are the host's, in the host's OpenAPI. Owners see only their own files, as in the service.
Errors keep the service's JSON shape (``{"error": ..., "detail": ...}``) through the
router's own route class; the host's handlers are left alone.

Bucket administration and other owners' quotas need ``admin=True`` (and an admin
``Principal``). Public files download without credentials only with ``optional_owner``
(a dependency that returns None for an anonymous caller). The local-disk store's signed
URLs (``/store/...``) are served under the prefix too: set ``S3FILES_PUBLIC_URL`` to the
host's URL with the prefix (``https://app.example.com/api/v1``).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from s3files import _errors as lib
from s3files.contrib.fastapi._rebind import Rebinder
from s3files.server import deps
from s3files.server.api_error import ApiError
from s3files.server.app import api_router
from s3files.server.auth import Principal
from s3files.server.buckets.endpoints import require_admin
from s3files.server.errors import status_for
from s3files.server.local_store import router as local_store_router

__all__ = ["FilesRoute", "files_router"]

logger = logging.getLogger("s3files.contrib.fastapi")
SERVICE_PREFIX = "/api/v1"
_RETRY_AFTER = {"Retry-After": "2"}


def _error(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


class FilesRoute(APIRoute):
    """The files routes' errors as the service answers them, whatever the host's handlers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as exc:
                headers = dict(exc.headers or {})
                if exc.status == 503:
                    headers = {**_RETRY_AFTER, **headers}
                return _error(exc.status, exc.error, exc.detail, headers)
            except lib.S3FilesError as exc:
                status, code = status_for(exc)
                if status >= 500:
                    logger.warning("store_error", extra={"fields": {"error": code}})
                detail = exc.message if status < 500 or status in (502, 503) else "internal error"
                return _error(status, code, detail, _RETRY_AFTER if status == 503 else None)
            except PoolTimeoutError:
                return _error(503, "busy", "the service is busy; retry shortly", _RETRY_AFTER)
            except OperationalError:
                logger.exception("database_error")
                return _error(
                    503, "database_unavailable", "the database is unavailable", _RETRY_AFTER
                )

        return answer


def as_principal(value: Any) -> Principal:
    """What the host's owner dependency returned, as the service's ``Principal``."""
    if isinstance(value, Principal):
        return value
    if isinstance(value, str) and 0 < len(value) <= 255:
        return Principal(owner=value)
    raise TypeError(
        "the owner dependency of files_router must return the owner's id (a non-empty str "
        f"of at most 255 characters) or a Principal, not {type(value).__name__}"
    )


def _principal_of(owner: Callable[..., Any], *, optional: bool) -> Callable[..., Any]:
    """A dependency of the service's shape (-> Principal) over the host's ``owner``."""

    async def host_principal(who: Any) -> Principal | None:
        if who is None and optional:
            return None
        return as_principal(who)

    annotation = Annotated[Any, Depends(owner)]
    host_principal.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("who", inspect.Parameter.KEYWORD_ONLY, annotation=annotation)],
        return_annotation=Principal | None if optional else Principal,
    )
    return host_principal


def _calls(dependant: Any) -> Iterator[Any]:
    yield dependant.call
    for child in dependant.dependencies:
        yield from _calls(child)


def files_router(
    owner: Callable[..., Any],
    *,
    optional_owner: Callable[..., Any] | None = None,
    state: Callable[..., Any] | None = None,
    admin: bool = False,
) -> APIRouter:
    """The service's API routes with the host's ``owner`` dependency in place of its API
    keys; ``state`` (a dependency returning the ``AppState``) replaces the lookup of
    ``request.app.state.s3files`` that ``s3files_lifespan`` fills."""
    replacements: dict[Callable[..., Any], Callable[..., Any]] = {
        deps.current_principal: _principal_of(owner, optional=False),
        deps.optional_principal: _principal_of(optional_owner or owner, optional=True),
    }
    if state is not None:
        replacements[deps.app_state] = state
    rebinder = Rebinder(replacements)
    router = APIRouter(route_class=FilesRoute)
    for context in iter_route_contexts([*api_router().routes, *local_store_router.routes]):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        if not admin and require_admin in set(_calls(route.dependant)):
            continue
        path = str(context.path)
        if path.startswith(SERVICE_PREFIX + "/"):
            path = path[len(SERVICE_PREFIX) :]
        extra = dict(route.openapi_extra or {})
        if optional_owner is None and deps.optional_principal in set(_calls(route.dependant)):
            extra.pop("security", None)  # credentials are required here: the owner's
        router.add_api_route(
            path,
            rebinder.call(route.endpoint),
            response_model=route.response_model,
            status_code=route.status_code,
            tags=list(route.tags),
            dependencies=[rebinder.depends(d) for d in route.dependencies],
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=dict(route.responses),
            deprecated=route.deprecated,
            methods=set(route.methods or ()),
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            openapi_extra=extra or None,
        )
    return router
