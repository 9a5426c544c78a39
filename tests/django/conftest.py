"""pytest-django for this folder only, against the Ceph RGW of the root conftest.

Django is configured here with ``settings.configure`` (from tests/django/settings.py), not
through DJANGO_SETTINGS_MODULE, so the rest of the suite runs as before. A session fixture
points brief 003's AWS settings at the RGW and a bucket of this folder's own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import django
import pytest
from django.conf import settings as django_settings
from django.test import override_settings

from tests.conftest import new_bucket
from tests.django import settings as test_settings
from tests.django.chromium import ChromiumThread
from tests.harness.ceph import S3Server

if not django_settings.configured:
    django_settings.configure(
        **{name: getattr(test_settings, name) for name in dir(test_settings) if name.isupper()}
    )
    django.setup()


@pytest.fixture(scope="session")
def orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API keeps an event loop running on the main thread while a browser
    is open (tests/browser holds one for the whole session); Django would then refuse ORM
    calls as if they came from async code. They do not: allow them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="session")
def django_db_setup(orm_beside_playwright: None, django_db_setup: None) -> None:
    """pytest-django's database set-up (real migrations), after the fixture above."""


@pytest.fixture(scope="session")
def django_bucket(boto_client: Any) -> str:
    """A bucket of its own: bucket_setup replaces its CORS rules."""
    return new_bucket(boto_client)


@pytest.fixture(scope="session", autouse=True)
def s3_settings(
    orm_beside_playwright: None, s3_server: S3Server, django_bucket: str
) -> Iterator[None]:
    """Brief 003's settings, pointed at the RGW, for every test in this folder."""
    override = override_settings(
        AWS_ACCESS_KEY_ID=s3_server.access_key,
        AWS_SECRET_ACCESS_KEY=s3_server.secret_key,
        AWS_S3_BUCKET_NAME=django_bucket,
        AWS_REGION=s3_server.region,
        AWS_S3_ENDPOINT_URL=s3_server.endpoint_url,
    )
    override.enable()
    try:
        yield
    finally:
        override.disable()


@pytest.fixture(scope="session")
def chromium() -> Iterator[ChromiumThread]:
    """Debian's Chromium (as tests/browser's ``browser`` fixture), on a thread of its own."""
    browser = ChromiumThread()
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def prefix() -> str:
    """A folder of the test's own in the shared bucket."""
    return f"t-{uuid.uuid4().hex[:12]}"
