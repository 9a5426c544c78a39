"""Test fixtures: a real S3 server (Ceph RGW booted by tests/harness, or the server named by
S3FILES_TEST_S3_ENDPOINT), a fresh bucket prefix per test, and stores of both kinds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from s3files import FileStore, LocalStore, S3Store, UploadPolicy
from s3files.signing import Credentials, LocalURLSigner
from tests.harness.ceph import CephCluster, S3Server, ensure_installed, external_server

LOCAL_SIGNING_SECRET = b"test-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """The S3 server for this test session; fails loudly if it cannot be had."""
    external = external_server()
    if external is not None:
        yield external
        return
    ensure_installed()
    cluster = CephCluster(tmp_path_factory.mktemp("ceph"))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def s3_credentials(s3_server: S3Server) -> Credentials:
    return Credentials(s3_server.access_key, s3_server.secret_key)


@pytest.fixture(scope="session")
def boto_client(s3_server: S3Server):  # type: ignore[no-untyped-def]
    """A plain boto3 client, for checking what the store really holds."""
    return boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint_url,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key=s3_server.secret_key,
        region_name=s3_server.region,
        config=Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


@pytest.fixture(scope="session")
def session_bucket(boto_client) -> str:  # type: ignore[no-untyped-def]
    name = f"s3files-test-{uuid.uuid4().hex[:12]}"
    boto_client.create_bucket(Bucket=name)
    return name


def new_bucket(boto_client) -> str:  # type: ignore[no-untyped-def]
    name = f"s3files-{uuid.uuid4().hex[:16]}"
    boto_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_store(
    s3_server: S3Server, s3_credentials: Credentials, session_bucket: str
) -> Iterator[S3Store]:
    """An S3Store on the session bucket under a prefix of its own (small parts to exercise
    multipart with modest files)."""
    store = S3Store(
        session_bucket,
        prefix=f"t-{uuid.uuid4().hex[:12]}",
        endpoint_url=s3_server.endpoint_url,
        credentials=s3_credentials,
        region=s3_server.region,
        part_size=5 * 1024 * 1024,
    )
    yield store
    store.close()


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    signer = LocalURLSigner(LOCAL_SIGNING_SECRET, "http://127.0.0.1:9")
    return LocalStore(tmp_path / "store", signer=signer)


@pytest.fixture(params=["local", "s3"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def any_store(store_kind: str, request: pytest.FixtureRequest) -> LocalStore | S3Store:
    """Each contract test runs once per store kind."""
    fixture = "local_store" if store_kind == "local" else "s3_store"
    store: LocalStore | S3Store = request.getfixturevalue(fixture)
    return store


@pytest.fixture
def files(any_store: LocalStore | S3Store) -> FileStore:
    return FileStore(any_store, policy=UploadPolicy(max_size=64 * 1024 * 1024))


@pytest.fixture
def permissive_files(any_store: LocalStore | S3Store) -> FileStore:
    return FileStore(any_store, policy=UploadPolicy.permissive(max_size=256 * 1024 * 1024))
