"""The only place where errors become HTTP responses: ``{"error": code, "detail": text}``.

Library errors map by type; ``ApiError`` is raised by the service itself; FastAPI's
validation errors become 422 ``validation_error``; a database that cannot be had in time
(the pool exhausted, SQLite's write lock held) is 503 ``busy`` with ``Retry-After`` (every
503 carries it); a 405 names in ``Allow`` every method the path answers; anything
unexpected is logged and answered 500 ``internal_error`` without a traceback.

How a route declares its errors (the OpenAPI document must match what it answers;
``tests/server/test_openapi_conformance.py`` checks it with schemathesis)::

    @router.post("/things/{thing_id:uuid}", responses=error_responses(401, 404, 409))

``error_responses`` documents each status with ``ErrorBody``, its own example and its
headers (``ERRORS``; add a status there before using it). List what the route itself
raises; ``document_errors`` (installed by ``create_app``) adds what every route may answer
(``EVERY_ROUTE``: malformed, slow, oversized requests), turns FastAPI's 422 into
``ErrorBody``, and adds 503 to every route that documents 401. Type path ids with a
convertor (``{thing_id:uuid}``) so that ``/things/other`` is another path (405, not 422),
and make JSON request fields strict where the schema is (``StrictBool``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from s3files import _errors as lib
from s3files.server.api_error import ApiError

__all__ = [
    "ERRORS",
    "EVERY_ROUTE",
    "ApiError",
    "ErrorBody",
    "document_errors",
    "error_responses",
    "install_error_handlers",
    "status_for",
]

logger = logging.getLogger("s3files.server")


class ErrorBody(BaseModel):
    """Every error response has this shape (each status documents its own example)."""

    error: str = Field(description="stable code, e.g. `not_found`")
    detail: str = Field(description="what went wrong, for a person")


_STATUS_BY_TYPE: list[tuple[type[lib.S3FilesError], int]] = [
    (lib.FileTooLargeError, 413),
    (lib.UnsupportedFileTypeError, 415),
    (lib.ExpiredSignatureError, 403),
    (lib.InvalidSignatureError, 403),
    (lib.InvalidInputError, 400),
    (lib.ObjectNotFoundError, 404),
    (lib.BucketNotFoundError, 502),
    (lib.ObjectExistsError, 409),
    (lib.ThrottledError, 503),
    (lib.StoreUnavailableError, 503),
    (lib.PermissionDeniedError, 502),
    (lib.StoreError, 502),
    (lib.ConfigurationError, 500),
]


def status_for(exc: lib.S3FilesError) -> tuple[int, str]:
    """HTTP status and stable error code for a library error."""
    for kind, status in _STATUS_BY_TYPE:
        if isinstance(exc, kind):
            code = exc.code
            if type(exc) is lib.InvalidInputError and isinstance(exc, lib.InvalidInputError):
                code = exc.reason or exc.code
                if code == "invalid_range":
                    return 416, code
            return status, code
    return 500, "internal_error"


def _json(
    status: int, error: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


@dataclass(frozen=True)
class _Documented:
    """How the OpenAPI document describes one error status."""

    description: str
    error: str
    detail: str
    headers: tuple[tuple[str, str, bool], ...] = ()  # (name, description, always sent)


_RETRY_AFTER = ("Retry-After", "seconds to wait before retrying", True)

ERRORS: dict[int, _Documented] = {
    400: _Documented(
        "Invalid input (`invalid_metadata`, `invalid_filename`, ...) or a malformed request"
        " (`invalid_request`)",
        "invalid_metadata",
        "metadata key 'a b' may contain only letters, digits, '-' and '_'",
    ),
    401: _Documented(
        "Missing or invalid credentials (`unauthorized`)",
        "unauthorized",
        "missing or invalid API key",
        (("WWW-Authenticate", "`Bearer`", True),),
    ),
    403: _Documented(
        "Not allowed (`forbidden`; signed URLs: `invalid_signature`, `expired_signature`)",
        "forbidden",
        "bucket administration needs an admin API key",
    ),
    404: _Documented(
        "No such resource for this owner (`not_found`)", "not_found", "file not found"
    ),
    405: _Documented(
        "Method not allowed on this path (`method_not_allowed`)",
        "method_not_allowed",
        "Method Not Allowed",
        (("Allow", "the methods this path answers", True),),
    ),
    408: _Documented(
        "Request body too slow (`body_timeout`); the connection is closed",
        "body_timeout",
        "the request body arrived too slowly",
    ),
    409: _Documented(
        "Conflict with the resource's state (`upload_closed`, `completion_in_progress`, ...)",
        "upload_closed",
        "this upload is complete",
    ),
    413: _Documented(
        "Body larger than the limit (`file_too_large`, `body_too_large`)",
        "file_too_large",
        "file is larger than the limit of 104857600 bytes",
    ),
    414: _Documented(
        "Request target too long to parse (`uri_too_long`); the connection is closed",
        "uri_too_long",
        "request target longer than 65535 bytes",
    ),
    415: _Documented(
        "Extension or sniffed type not allowed (`unsupported_file_type`)",
        "unsupported_file_type",
        "file type .exe is not allowed",
    ),
    416: _Documented(
        "Range not satisfiable (`invalid_range`)", "invalid_range", "range not satisfiable"
    ),
    422: _Documented(
        "Request fields malformed (`validation_error`): the detail names each field",
        "validation_error",
        "query.limit: Input should be greater than or equal to 1",
    ),
    431: _Documented(
        "Too many or too large request headers (`headers_too_large`)",
        "headers_too_large",
        "more than 100 header lines",
    ),
    502: _Documented(
        "The store refused or failed (`store_error`, `bucket_not_found`)",
        "store_error",
        "the store answered an error",
    ),
    503: _Documented(
        "Busy or unavailable (`busy`, `store_unavailable`, `database_unavailable`): retry",
        "busy",
        "the service is busy; retry shortly",
        (_RETRY_AFTER,),
    ),
}

ERRORS_400 = (ERRORS[400].error, ERRORS[400].detail)
ERRORS_413 = (ERRORS[413].error, ERRORS[413].detail)

# What every request may be answered, whatever its route, before routing: the HTTP server's
# refusals (server/http_protocol.py: 400, 414, 431) and RequestLimitsMiddleware's
# (server/request_limits.py: 400, 408, 413, 431).
EVERY_ROUTE = (400, 408, 413, 414, 431)


def error_responses(
    *statuses: int,
    description: str | None = None,
    example: tuple[str, str] | None = None,
    headers: tuple[tuple[str, str, bool], ...] = (),
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting the error body for these statuses, each
    with its own example and headers (``ERRORS``). A route whose status means something of
    its own says so: ``description``, ``example`` (code, detail) and extra ``headers``
    (name, description, always sent) replace or add to the table's, for example::

        error_responses(409, description="Key in use (`idempotency_in_progress`)",
                        example=("idempotency_in_progress", "retry later"))
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        documented = ERRORS.get(status) or _Documented("Error", "error", "request failed")
        error, detail = example or (documented.error, documented.detail)
        documented = _Documented(
            description or documented.description, error, detail, documented.headers + headers
        )
        entry: dict[str, Any] = {
            "model": ErrorBody,
            "description": documented.description,
            "content": {
                "application/json": {
                    "example": {"error": documented.error, "detail": documented.detail}
                }
            },
        }
        if documented.headers:
            entry["headers"] = {
                name: {"description": text, "required": always, "schema": {"type": "string"}}
                for name, text, always in documented.headers
            }
        responses[status] = entry
    return responses


def document_errors(app: FastAPI) -> None:
    """Make ``app.openapi()`` tell the errors every route really answers.

    FastAPI documents its own validation body (``HTTPValidationError``, an array) for 422;
    this service answers ``ErrorBody`` instead (``install_error_handlers``). So the
    document is generated once, then on every operation: a 422 becomes ``ErrorBody``; the
    statuses of ``EVERY_ROUTE`` are added; an operation that authenticates (documents 401)
    also gets 503 (the key is checked in the database, which may be busy).
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                _complete(operation["responses"])
                _fit_examples(path, method, operation["responses"])
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        text = json.dumps(schema.get("paths", {}))
        for name in ("HTTPValidationError", "ValidationError"):
            if f"#/components/schemas/{name}" not in text:
                components.pop(name, None)
        components.setdefault("ErrorBody", ErrorBody.model_json_schema())
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(responses: dict[str, Any]) -> None:
    """One operation's responses, completed as ``document_errors`` says."""
    statuses = list(EVERY_ROUTE)
    if "422" in responses:
        schema = responses["422"].get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("$ref", "").endswith("/HTTPValidationError"):
            del responses["422"]
            statuses.append(422)
    if "401" in responses:
        statuses.append(503)
    for status, entry in error_responses(*statuses).items():
        if str(status) in responses:
            continue
        entry = dict(entry)
        entry.pop("model")
        entry["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/ErrorBody"}
        responses[str(status)] = entry


# Where a route's error means something else than the table's generic example says: the
# code and detail it really answers, by status and the longest matching path prefix (with
# the method, "GET /path", where it matters; "$" at the end: that route only). Applied only
# over the table's own example.
_UPLOADS = ("POST /api/v1/files/upload", "POST /api/v1/files/stream", "PUT /api/v1/files/stream")
_BY_ROUTE: dict[int, dict[str, tuple[str, str]]] = {
    400: {
        "": ("invalid_request", "Content-Length is not a number"),
        "POST /api/v1/files/upload": ERRORS_400,
        "POST /api/v1/files/stream": ERRORS_400,
        "PUT /api/v1/files/stream": ERRORS_400,
        "PATCH /api/v1/files/{file_id}": ERRORS_400,
        "POST /api/v1/files/{file_id}/copy": ERRORS_400,
        "GET /api/v1/files$": ("invalid_query", "search contains control characters"),
        "GET /api/v1/folders$": ("invalid_cursor", "cursor is not one this service issued"),
        "POST /api/v1/folders": ("invalid_folder", "name a folder (the top level cannot be used)"),
        "DELETE /api/v1/folders": (
            "invalid_folder",
            "name a folder (the top level cannot be used)",
        ),
        "GET /api/v1/folders/zip": (
            "invalid_folder",
            "name a folder (the top level cannot be used)",
        ),
        "POST /api/v1/folders/move": ("folder_inside_itself", "'photos' cannot move into itself"),
        "POST /api/v1/files/batch": ("invalid_field", "folder: required for move"),
        "POST /api/v1/uploads": ("invalid_metadata", ERRORS_400[1]),
        "POST /api/v1/uploads/{upload_id}/parts": (
            "invalid_part_numbers",
            "this upload has 3 parts",
        ),
        "POST /api/v1/uploads/{upload_id}/complete": ("incomplete_upload", "part 2 is missing"),
    },
    403: {
        "/store": ("invalid_signature", "signature does not match"),
        "/store-upload": ("policy_violation", "the key does not match the policy"),
    },
    404: {
        "/api/v1/folders": ("not_found", "folder not found"),
        "/api/v1/files/zip": ("not_found", "2 of the files not found"),
        "/api/v1/files/batch": ("not_found", "2 of the files not found"),
        "/api/v1/uploads": ("not_found", "upload not found"),
        "/api/v1/buckets": ("bucket_not_found", "no bucket named 'photos'"),
        "/api/v1/search": ("not_available", "bucket administration is not set up"),
        "/store": ("not_found", "this service does not serve a local store"),
    },
    409: {
        "/api/v1/folders": ("folder_exists", "'photos/2027' already exists"),
    },
    413: {
        "": ("body_too_large", "the request body is larger than 1048576 bytes"),
        **{route: ("file_too_large", ERRORS_413[1]) for route in _UPLOADS},
        "PUT /store": ("file_too_large", ERRORS_413[1]),
        "/store-upload": ("file_too_large", ERRORS_413[1]),
    },
    502: {
        "/api/v1/folders": (
            "store_error",
            "the store kept 1 objects (their files are unchanged; repeat the call): AccessDenied",
        ),
        "/api/v1/trash": (
            "store_error",
            "the store kept 1 objects (their files are unchanged; repeat the call): AccessDenied",
        ),
    },
}


def _matches_route(pattern: str, route: str, path: str) -> bool:
    """A prefix of "METHOD /path" or of the path; a trailing ``$`` asks for all of it."""
    if pattern.endswith("$"):
        return route == pattern[:-1]
    return route.startswith(pattern) or path.startswith(pattern)


def _fit_examples(path: str, method: str, responses: dict[str, Any]) -> None:
    """Replace the table's generic example where this route answers something else."""
    route = f"{method.upper()} {path}"
    for status, choices in _BY_ROUTE.items():
        example = (
            responses.get(str(status), {}).get("content", {}).get("application/json", {})
        ).get("example")
        generic = ERRORS[status]
        if example != {"error": generic.error, "detail": generic.detail}:
            continue  # the route documents its own
        best = max(
            (p for p in choices if _matches_route(p, route, path)),
            key=len,
            default=None,
        )
        if best is not None:
            code, detail = choices[best]
            example.update(error=code, detail=detail)


def _database_busy(exc: OperationalError) -> bool:
    """SQLite's "database is locked": another writer held the lock past the timeout."""
    return "database is locked" in str(exc.orig)


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str:
    """Every method some route answers on this request's path, for ``Allow``.

    Starlette's 405 names only the methods of the first route whose path matched; a path
    served by several routes (GET, PATCH and DELETE of ``/files/{id}``) needs them all.
    Each method is tried against the app's routes as the router would (included routers
    are matched as a whole, not flattened)."""
    routes = request.app.router.routes
    allowed = []
    for method in _METHODS:
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            allowed.append(method)
    return ", ".join(allowed)


def install_error_handlers(app: FastAPI, *, retry_after: int = 2) -> None:
    busy_headers = {"Retry-After": str(retry_after)}
    # the headers ERRORS documents as always sent, for errors raised without them
    always_sent = {401: {"WWW-Authenticate": "Bearer"}, 503: busy_headers}

    @app.exception_handler(PoolTimeoutError)
    async def _pool_exhausted(_: Request, exc: PoolTimeoutError) -> JSONResponse:
        logger.warning("database_pool_exhausted")
        return _json(503, "busy", "the service is busy; retry shortly", busy_headers)

    @app.exception_handler(OperationalError)
    async def _database_error(_: Request, exc: OperationalError) -> JSONResponse:
        if _database_busy(exc):
            logger.warning("database_locked")
            return _json(503, "busy", "the service is busy; retry shortly", busy_headers)
        logger.error("database_error", exc_info=exc)
        return _json(503, "database_unavailable", "the database is unavailable", busy_headers)

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {**always_sent.get(exc.status, {}), **(exc.headers or {})}
        return _json(exc.status, exc.error, exc.detail, headers)

    @app.exception_handler(lib.S3FilesError)
    async def _library_error(_: Request, exc: lib.S3FilesError) -> JSONResponse:
        status, code = status_for(exc)
        if status >= 500:
            logger.warning("store_error", extra={"fields": {"error": code, "detail": str(exc)}})
        detail = exc.message if status < 500 or status in (502, 503) else "internal error"
        return _json(status, code, detail, busy_headers if status == 503 else None)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
            problems.append(f"{where}: {error.get('msg')}")
        return _json(422, "validation_error", "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return _json(
            exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail), headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled_error")
        return _json(500, "internal_error", "internal error")
