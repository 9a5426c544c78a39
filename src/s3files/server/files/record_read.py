"""A shortcut for the hottest route, ``GET /api/v1/files/{file_id}``: the same answer,
without FastAPI's routing and dependency solving.

Profiled in-process (cProfile, a record read 3,000 times on SQLite), FastAPI spent more of
each request on finding the route (the routers included in one another are matched level
by level, about 20 routes tried, twice) and on solving its four dependencies than on the
work itself: about 60 % of the service's CPU per request, where the key check, the
database read and the JSON took the rest.

``RecordReadShortcut`` is an ASGI middleware just outside the router (inside the request
limits, CORS and metrics). For a ``GET`` whose path is exactly the route's (the same
``uuid`` pattern) it does what the route does, with the same functions: the bearer header
read as ``HTTPBearer`` reads it, ``Authenticator.authenticate`` (so the key cache, its
revocation bound and the owner are the route's), ``FileService.get`` (the owner check and
the read), ``FileOut.of`` and the same pydantic serializer FastAPI uses for the route's
``response_model``: the body and headers are byte-identical (``tests/server/
test_record_read.py`` compares them with the route's). An error raised here (401 for a
wrong key, 404, 503 for a pool timeout) is answered by the app's own handler of it, as
its exception middleware would; a request without a bearer token, or an error the app
has no handler for (the catch-all 500), is handed to the app as if the shortcut were not
there, and the route answers it in its own words. The shortcut stands aside when the app
has ``dependency_overrides`` (a host app that authenticates its own way).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi.security.utils import get_authorization_scheme_param
from starlette._utils import get_route_path
from starlette.convertors import UUIDConvertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from s3files.server.files.schemas import FileOut
from s3files.server.files.service import FileService
from s3files.server.state import AppState

__all__ = ["RECORD_PATH", "RecordReadShortcut"]

RECORD_PATH = "/api/v1/files/{file_id}"  # the route's template, as the metrics label it
_PATH = re.compile(r"^/api/v1/files/(" + UUIDConvertor.regex + r")$")
_SERIALIZER: Any = FileOut.__pydantic_serializer__


def _authorization(scope: Scope) -> str | None:
    """``Bearer <token>`` as the route's ``HTTPBearer`` (``auto_error=False``) passes it on,
    or None when it would pass nothing."""
    value: str | None = None
    for name, raw in scope["headers"]:
        if name == b"authorization":
            value = raw.decode("latin-1")
            break
    scheme, credentials = get_authorization_scheme_param(value)
    if not (value and scheme and credentials) or scheme.lower() != "bearer":
        return None
    return f"{scheme} {credentials}"


class RecordReadShortcut:
    """The route ``GET /api/v1/files/{file_id}`` answered without routing (module docstring).

    ``route``: what ``scope["route"]`` is set to for the metrics (the route itself)."""

    def __init__(self, app: ASGIApp, route: Any = None) -> None:
        self.app = app
        self.route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            found = _PATH.match(get_route_path(scope))
            if found is not None and await self._answered(scope, receive, send, found.group(1)):
                return
        await self.app(scope, receive, send)

    async def _answered(self, scope: Scope, receive: Receive, send: Send, file_id: str) -> bool:
        """Answer as the route would; False when the app should (nothing sent then)."""
        app: Any = scope.get("app")
        state: AppState | None = getattr(getattr(app, "state", None), "s3files", None)
        if state is None or getattr(app, "dependency_overrides", None):
            return False
        header = _authorization(scope)
        if header is None:
            return False
        try:
            principal = await state.authenticator.authenticate(state.sessions, header)
            record = await FileService(state, principal).get(uuid.UUID(file_id))
        except Exception as error:
            handler = _handler_of(app, error)
            if handler is None:
                return False  # the route meets it again, inside the app's handlers
            response: Response = await handler(Request(scope, receive), error)
            scope["route"] = self.route
            await response(scope, receive, send)
            return True
        body: bytes = _SERIALIZER.to_json(FileOut.of(record), by_alias=True)
        scope["route"] = self.route
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return True


def _handler_of(app: Any, error: Exception) -> Any:
    """The app's own handler of ``error`` (``ApiError``, the pool's timeout ...), as its
    exception middleware would pick it; None for the catch-all of unexpected errors."""
    handlers: dict[Any, Any] = getattr(app, "exception_handlers", {})
    for kind in type(error).__mro__:
        if kind is Exception:
            return None
        if kind in handlers:
            return handlers[kind]
    return None
