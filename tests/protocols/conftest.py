"""One real service per module and store (Ceph RGW, local disk; SQLite), shared by the
module's tests: the protocol tests are client runs against ``s3files serve``'s app."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests import samples
from tests.server.conftest import Service, make_service
from tests.server.conftest import postgres as postgres  # the migration test's PostgreSQL

MiB = 1024 * 1024
MAX_FILE_MB = 32  # the service's size limit in these tests


def content(size: int) -> bytes:
    """A PNG (sniffed as image/png) padded with random bytes to ``size``."""
    head = samples.png()
    return head + os.urandom(size - len(head))


def service_for(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    store: str,
    **overrides: Any,
) -> Iterator[Service]:
    tmp_path = tmp_path_factory.mktemp(f"protocols-{store}")
    yield from make_service(
        tmp_path,
        request,
        store,
        "sqlite",
        s3_max_file_size_mb=MAX_FILE_MB,
        companion_sweep_seconds=0.5,
        **overrides,
    )


@pytest.fixture(scope="module", params=["s3", "local"])
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """The service over Ceph RGW, then over the local disk (one per module)."""
    yield from service_for(request, tmp_path_factory, request.param)
