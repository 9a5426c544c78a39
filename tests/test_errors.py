"""Store failures become typed errors that name what went wrong."""

from __future__ import annotations

import socket

import pytest

from s3files import (
    BucketNotFoundError,
    FileStore,
    InvalidCredentialsError,
    ObjectNotFoundError,
    PermissionDeniedError,
    S3FilesError,
    S3Store,
    StoreUnavailableError,
)
from s3files.signing import Credentials
from tests import samples
from tests.harness.ceph import S3Server


def test_wrong_secret(s3_server: S3Server, session_bucket: str) -> None:
    store = S3Store(
        session_bucket,
        endpoint_url=s3_server.endpoint_url,
        credentials=Credentials(s3_server.access_key, "wrong-secret"),
        max_attempts=1,
    )
    with pytest.raises(InvalidCredentialsError) as caught:
        FileStore(store).upload(samples.text(), filename="a.txt")
    assert "wrong-secret" not in str(caught.value)
    assert caught.value.bucket == session_bucket


def test_unknown_key_id(s3_server: S3Server, session_bucket: str) -> None:
    store = S3Store(
        session_bucket,
        endpoint_url=s3_server.endpoint_url,
        credentials=Credentials("NOSUCHKEY", "x"),
        max_attempts=1,
    )
    with pytest.raises(InvalidCredentialsError):
        store.list_page()
    with pytest.raises(PermissionDeniedError):  # HEAD answers a bare 403, no error code
        store.head("a.txt")


def test_missing_bucket(s3_server: S3Server, s3_credentials: Credentials) -> None:
    store = S3Store(
        "no-such-bucket-s3files", endpoint_url=s3_server.endpoint_url, credentials=s3_credentials
    )
    with pytest.raises(BucketNotFoundError) as caught:
        FileStore(store).upload(samples.text(), filename="a.txt")
    assert caught.value.bucket == "no-such-bucket-s3files"
    with pytest.raises(BucketNotFoundError):
        store.list_page()
    with pytest.raises(S3FilesError):  # HEAD carries no error code: a bare 404
        store.head("a.txt")


def test_unreachable_endpoint(s3_credentials: Credentials) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = S3Store(
        "bucket",
        endpoint_url=f"http://127.0.0.1:{port}",
        credentials=s3_credentials,
        max_attempts=1,
        connect_timeout=1,
    )
    with pytest.raises(StoreUnavailableError) as caught:
        store.head("a.txt")
    assert isinstance(caught.value, ConnectionError)
    with pytest.raises(StoreUnavailableError):
        FileStore(store).upload(samples.text(), filename="a.txt")


def test_error_messages_carry_location(s3_store: S3Store) -> None:
    with pytest.raises(ObjectNotFoundError) as caught:
        s3_store.head("x/y.txt")
    assert str(caught.value) == f"no such object [{s3_store.bucket}/x/y.txt]"
    assert (caught.value.bucket, caught.value.key) == (s3_store.bucket, "x/y.txt")
    assert isinstance(caught.value, FileNotFoundError)  # catchable as the built-in error
