"""The only place where errors become HTTP responses: ``{"error": code, "detail": text}``.

Library errors map by type; ``ApiError`` is raised by the service itself; FastAPI's
validation errors become 422 ``validation_error``; a database that cannot be had in time
(the pool exhausted, SQLite's write lock held) is 503 ``busy`` with ``Retry-After``;
anything unexpected is logged and answered 500 ``internal_error`` without a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from s3files import _errors as lib
from s3files.server.api_error import ApiError

__all__ = ["ApiError", "ErrorBody", "error_responses", "install_error_handlers", "status_for"]

logger = logging.getLogger("s3files.server")


class ErrorBody(BaseModel):
    """Every error response has this shape."""

    error: str
    detail: str

    model_config = {
        "json_schema_extra": {"examples": [{"error": "not_found", "detail": "file not found"}]}
    }


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


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting the error body for these statuses."""
    descriptions = {
        400: "Invalid input (`invalid_input`, `invalid_metadata`, `invalid_filename`, ...)",
        401: "Missing or invalid credentials (`unauthorized`)",
        403: "Signed URL forged or expired (`invalid_signature`, `expired_signature`)",
        404: "No such file for this owner (`not_found`)",
        408: "Request body too slow (`body_timeout`)",
        409: "Conflict (`conflict`)",
        413: "Body larger than the limit (`file_too_large`, `body_too_large`)",
        415: "Extension or sniffed type not allowed (`unsupported_file_type`)",
        416: "Range not satisfiable (`invalid_range`)",
        422: "Request fields malformed (`validation_error`)",
        503: "Busy or unavailable (`busy` with Retry-After, `store_unavailable`)",
    }
    return {
        code: {"model": ErrorBody, "description": descriptions.get(code, "Error")}
        for code in statuses
    }


def _database_busy(exc: OperationalError) -> bool:
    """SQLite's "database is locked": another writer held the lock past the timeout."""
    return "database is locked" in str(exc.orig)


def install_error_handlers(app: FastAPI, *, retry_after: int = 2) -> None:
    busy_headers = {"Retry-After": str(retry_after)}

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
        return _json(exc.status, exc.error, exc.detail, exc.headers)

    @app.exception_handler(lib.S3FilesError)
    async def _library_error(_: Request, exc: lib.S3FilesError) -> JSONResponse:
        status, code = status_for(exc)
        if status >= 500:
            logger.warning("store_error", extra={"fields": {"error": code, "detail": str(exc)}})
        detail = exc.message if status < 500 or status in (502, 503) else "internal error"
        return _json(status, code, detail)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
            problems.append(f"{where}: {error.get('msg')}")
        return _json(422, "validation_error", "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}
        return _json(
            exc.status_code,
            codes.get(exc.status_code, "http_error"),
            str(exc.detail),
            dict(exc.headers or {}),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled_error")
        return _json(500, "internal_error", "internal error")
