"""The client's shape, without a service: the async twin matches the sync client, every
error code the service answers maps to a typed error, and the client never imports the
stores or the server."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest

import s3files.client as client_module
from s3files import (
    FileTooLargeError,
    InvalidCredentialsError,
    ObjectExistsError,
    ObjectNotFoundError,
    PermissionDeniedError,
    StoreUnavailableError,
    UnsupportedFileTypeError,
)
from s3files._retry import RetryPolicy
from s3files.client import AsyncClient, Client, ServiceError, error_for
from s3files.client._errors import _BY_CODE, BusyError, QuotaExceededError
from s3files.server.errors import ERRORS

RENAMED = {"close": "aclose"}


def _public(cls: type) -> dict[str, typing.Any]:
    return {
        name: getattr(cls, name)
        for name in dir(cls)
        if not name.startswith("_") and callable(getattr(cls, name))
    }


def test_async_client_is_the_twin_of_client() -> None:
    sync_methods, async_methods = _public(Client), _public(AsyncClient)
    assert {RENAMED.get(name, name) for name in sync_methods} == set(async_methods)
    for name, method in sync_methods.items():
        twin = async_methods[RENAMED.get(name, name)]
        ours, theirs = inspect.signature(method), inspect.signature(twin)
        assert [(p.name, p.kind, p.default, p.annotation) for p in ours.parameters.values()] == [
            (p.name, p.kind, p.default, p.annotation) for p in theirs.parameters.values()
        ], name
        assert inspect.iscoroutinefunction(twin) or inspect.isasyncgenfunction(twin), name
        sync_return = str(ours.return_annotation).replace("Iterator[", "AsyncIterator[")
        assert sync_return == str(theirs.return_annotation), name


def _codes_the_service_answers() -> set[str]:
    """Every stable code: the ERRORS table's examples and the codes its descriptions name,
    and every code the server's own ``ApiError(...)`` calls use."""
    codes = {documented.error for documented in ERRORS.values()}
    for documented in ERRORS.values():
        codes |= set(re.findall(r"`([a-z_]+)`", documented.description))
    server = Path(client_module.__file__).parents[1] / "server"
    for source in server.rglob("*.py"):
        codes |= set(re.findall(r'ApiError\(\s*\d{3},\s*"([a-z_]+)"', source.read_text()))
    return codes


@pytest.mark.parametrize("status", sorted(ERRORS))
def test_every_documented_status_maps_to_a_typed_error(status: int) -> None:
    documented = ERRORS[status]
    error = error_for(status, {"error": documented.error, "detail": documented.detail})
    assert type(error) is not ServiceError
    assert (error.status, error.code, error.detail) == (status, documented.error, documented.detail)


def test_every_code_maps_to_a_typed_error() -> None:
    codes = _codes_the_service_answers()
    assert {"not_found", "quota_exceeded", "file_too_large", "unauthorized", "busy"} <= codes
    for code in codes:
        status = next((s for s, d in ERRORS.items() if d.error == code), 400)
        error = error_for(status, {"error": code, "detail": "x"})
        assert type(error) is not ServiceError, code
    unmapped = {code for code in codes if code not in _BY_CODE}
    # codes without an entry of their own are typed by their status (a 409 is a conflict...)
    assert unmapped <= {c for c in codes if c not in ("quota_exceeded", "busy", "not_found")}


def test_errors_are_the_library_errors() -> None:
    assert isinstance(
        error_for(404, {"error": "not_found", "detail": "file not found"}),
        FileNotFoundError | ObjectNotFoundError,
    )
    too_large = error_for(
        413, {"error": "file_too_large", "detail": "file is larger than the limit of 1048576 bytes"}
    )
    assert isinstance(too_large, FileTooLargeError) and too_large.limit == 1048576
    assert isinstance(
        error_for(415, {"error": "unsupported_file_type", "detail": "x"}), UnsupportedFileTypeError
    )
    assert isinstance(
        error_for(401, {"error": "unauthorized", "detail": "x"}), InvalidCredentialsError
    )
    quota = error_for(403, {"error": "quota_exceeded", "detail": "x"})
    assert isinstance(quota, QuotaExceededError) and isinstance(quota, PermissionDeniedError)
    assert isinstance(error_for(409, {"error": "folder_exists", "detail": "x"}), ObjectExistsError)
    busy = error_for(503, {"error": "busy", "detail": "x"}, retry_after=2)
    assert isinstance(busy, BusyError) and isinstance(busy, StoreUnavailableError)
    assert RetryPolicy().should_retry(busy, 1)  # the one retry policy retries it
    assert not RetryPolicy().should_retry(quota, 1)
    assert str(
        error_for(404, {"error": "not_found", "detail": "no such file"}, subject="docs/a.pdf")
    ) == ("docs/a.pdf: no such file (not_found)")
    assert isinstance(error_for(502, None), StoreUnavailableError)


def test_busy_waits_at_least_retry_after() -> None:
    client = Client("http://127.0.0.1:9", "key", retry=RetryPolicy(base_delay=0.01, max_delay=0.01))
    busy = error_for(503, {"error": "busy", "detail": "x"}, retry_after=1.5)
    assert client._wait_before_retry(busy, 1, True) == 1.5
    assert client._wait_before_retry(busy, 1, False) is None  # not idempotent: never again
    client.close()


def test_the_client_imports_no_store_and_no_server() -> None:
    code = (
        "import sys, s3files.client; "
        "bad = [m for m in sys.modules if m.startswith(('s3files.server', 's3files.stores', "
        "'s3files.store', 'boto3', 'fastapi'))]; print(bad)"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
