"""S3Store under faults, through the real TCP proxy in front of the Ceph RGW
(tests/harness/proxy.py): uploads (the fast PUT of small objects and multipart), downloads
and aborts. Throttling, 5xx answers and dropped connections are retried by the one
``RetryPolicy``; a failure that persists ends in the typed error, with nothing left in
the bucket (no object, no multipart upload)."""

from __future__ import annotations

import hashlib
import itertools
import logging
import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from s3files import (
    FileStore,
    PermissionDeniedError,
    PutOptions,
    S3Store,
    StoreUnavailableError,
    ThrottledError,
    UploadPolicy,
)
from s3files._retry import RetryPolicy
from s3files.signing import Credentials
from tests.harness.ceph import S3Server
from tests.harness.proxy import FaultProxy, RequestRecord

MiB = 1024 * 1024
FAST_RETRIES = RetryPolicy(max_attempts=4, base_delay=0.02, max_delay=0.1)


@pytest.fixture
def proxy(s3_server: S3Server) -> Iterator[FaultProxy]:
    with FaultProxy.for_url(s3_server.endpoint_url) as running:
        yield running


@pytest.fixture
def store(
    proxy: FaultProxy, s3_server: S3Server, s3_credentials: Credentials, session_bucket: str
) -> Iterator[S3Store]:
    """An S3Store that reaches the server only through the proxy."""
    running = S3Store(
        session_bucket,
        prefix=f"faults-{uuid.uuid4().hex[:12]}",
        endpoint_url=proxy.url,
        credentials=s3_credentials,
        region=s3_server.region,
        part_size=5 * MiB,
        retry=FAST_RETRIES,
    )
    yield running
    running.close()


@pytest.fixture
def files(store: S3Store) -> FileStore:
    return FileStore(store, policy=UploadPolicy.permissive(max_size=None))


def payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def puts(record: RequestRecord) -> bool:
    return record.method == "PUT"


def part(number: int) -> Any:
    return lambda record: (
        record.method == "PUT" and f"partNumber={number}&" in (record.target + "&")
    )


def gets(record: RequestRecord) -> bool:
    return record.method == "GET" and "uploads" not in record.target


def assert_nothing_left(boto_client: Any, store: S3Store) -> None:
    """Checked behind the proxy's back, with a plain boto3 client."""
    listed = boto_client.list_objects_v2(Bucket=store.bucket, Prefix=store.prefix)
    assert listed.get("Contents", []) == []
    uploads = boto_client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix)
    assert uploads.get("Uploads", []) == []


def stored_digest(boto_client: Any, store: S3Store, key: str) -> bytes:
    body = boto_client.get_object(Bucket=store.bucket, Key=store.location.full_key(key))["Body"]
    return hashlib.sha256(body.read()).digest()


# Small objects: the fast PUT --------------------------------------------------------------


def test_small_upload_takes_the_fast_path(files: FileStore, proxy: FaultProxy) -> None:
    stored = files.upload(b"hello", filename="a.txt")
    [put] = [r for r in proxy.requests if r.method == "PUT"]
    assert "X-Amz-Signature=" in put.target  # signed in the query: not botocore's request
    assert files.download(stored.key) == b"hello"


def test_small_upload_is_retried_after_slowdown(
    files: FileStore, proxy: FaultProxy, boto_client: Any, store: S3Store
) -> None:
    proxy.fail_next(2, match=puts)  # 503 SlowDown
    data = payload(64 * 1024, 1)
    stored = files.upload(data, filename="small.bin")
    assert [r.injected for r in proxy.requests if puts(r)] == ["error", "error", None]
    assert stored_digest(boto_client, store, stored.key) == hashlib.sha256(data).digest()


@pytest.mark.parametrize(
    ("hard", "forward"),
    [(True, False), (False, False), (True, True)],
    ids=["rst", "fin", "rst-after-the-server-stored-it"],
)
def test_small_upload_is_retried_after_a_dropped_connection(
    files: FileStore,
    proxy: FaultProxy,
    boto_client: Any,
    store: S3Store,
    hard: bool,
    forward: bool,
) -> None:
    proxy.drop_next(1, hard=hard, forward=forward, match=puts)
    data = payload(32 * 1024, 2)
    stored = files.upload(data, filename="dropped.bin")
    assert [r.injected for r in proxy.requests if puts(r)] == ["drop", None]
    assert stored_digest(boto_client, store, stored.key) == hashlib.sha256(data).digest()


def test_small_upload_gives_up_with_a_typed_error_and_leaves_nothing(
    files: FileStore, proxy: FaultProxy, boto_client: Any, store: S3Store
) -> None:
    proxy.fail_next(100, match=puts)
    with pytest.raises(ThrottledError) as caught:
        files.upload(payload(1000, 3), filename="never.bin")
    assert caught.value.bucket == store.bucket and "SlowDown" in str(caught.value)
    assert len([r for r in proxy.requests if puts(r)]) == FAST_RETRIES.max_attempts
    assert_nothing_left(boto_client, store)


def test_not_implemented_is_not_retried(
    files: FileStore, proxy: FaultProxy, boto_client: Any, store: S3Store
) -> None:
    proxy.fail_next(100, status=501, code="NotImplemented", message="no", match=puts)
    with pytest.raises(StoreUnavailableError):
        files.upload(b"x" * 100, filename="x.bin")
    assert len([r for r in proxy.requests if puts(r)]) == 1
    assert_nothing_left(boto_client, store)


# Large objects: multipart -----------------------------------------------------------------


def test_multipart_part_is_retried_after_server_errors(
    files: FileStore, proxy: FaultProxy, boto_client: Any, store: S3Store
) -> None:
    proxy.fail_next(2, status=500, code="InternalError", message="oops", match=part(2))
    data = payload(11 * MiB, 4)
    stored = files.upload(data, filename="large.bin")
    sent = [r for r in proxy.requests if part(2)(r)]
    assert [r.injected for r in sent] == ["error", "error", None]
    assert stored_digest(boto_client, store, stored.key) == hashlib.sha256(data).digest()
    assert_uploads_gone(boto_client, store)


def test_multipart_part_is_retried_after_a_dropped_connection(
    files: FileStore, proxy: FaultProxy, boto_client: Any, store: S3Store
) -> None:
    proxy.drop_next(1, match=part(1))
    data = payload(6 * MiB, 5)
    stored = files.upload(data, filename="dropped-part.bin")
    assert [r.injected for r in proxy.requests if part(1)(r)] == ["drop", None]
    assert stored_digest(boto_client, store, stored.key) == hashlib.sha256(data).digest()


def test_multipart_gives_up_with_a_typed_error_and_aborts(
    files: FileStore, proxy: FaultProxy, boto_client: Any, store: S3Store
) -> None:
    proxy.fail_next(100, status=503, code="ServiceUnavailable", message="down", match=part(2))
    with pytest.raises(StoreUnavailableError) as caught:
        files.upload(payload(11 * MiB, 6), filename="never-large.bin")
    assert caught.value.bucket == store.bucket
    assert len([r for r in proxy.requests if part(2)(r)]) == FAST_RETRIES.max_attempts
    assert [r.method for r in proxy.requests if "uploadId=" in r.target][-1] == "DELETE"
    assert_nothing_left(boto_client, store)


def test_a_refused_abort_is_logged_and_the_original_error_raised(
    files: FileStore,
    proxy: FaultProxy,
    boto_client: Any,
    store: S3Store,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The writer aborts while the upload's own error is on its way up: a failed abort is
    logged with the upload id, and the error the caller sees is the upload's."""
    proxy.fail_next(100, status=500, code="InternalError", message="oops", match=part(1))
    proxy.fail_next(1, status=403, code="AccessDenied", message="no", match=deletes_upload)
    with (
        caplog.at_level(logging.ERROR, logger="s3files"),
        pytest.raises(StoreUnavailableError, match="InternalError"),
    ):
        files.upload(payload(6 * MiB, 7), filename="stuck.bin")
    left = boto_client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix)
    [upload] = left["Uploads"]
    assert any(upload["UploadId"] in record.getMessage() for record in caplog.records)
    boto_client.abort_multipart_upload(
        Bucket=store.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
    )
    assert_nothing_left(boto_client, store)


def assert_uploads_gone(boto_client: Any, store: S3Store) -> None:
    uploads = boto_client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix)
    assert uploads.get("Uploads", []) == []


# Aborting a direct upload -----------------------------------------------------------------


def deletes_upload(record: RequestRecord) -> bool:
    return record.method == "DELETE" and "uploadId=" in record.target


def test_abort_refused_raises_and_the_upload_stays(
    store: S3Store, proxy: FaultProxy, boto_client: Any
) -> None:
    upload_id = store.create_multipart("refused.bin", PutOptions(content_type="text/plain"))
    proxy.fail_next(1, status=403, code="AccessDenied", message="no", match=deletes_upload)
    with pytest.raises(PermissionDeniedError) as caught:
        store.abort_multipart("refused.bin", upload_id)
    assert caught.value.key == "refused.bin"
    assert [u.upload_id for u in store.list_multipart_uploads()] == [upload_id]
    store.abort_multipart("refused.bin", upload_id)  # allowed now
    store.abort_multipart("refused.bin", upload_id)  # and then already gone
    assert_nothing_left(boto_client, store)


def test_abort_is_retried_through_server_errors_and_raises_when_they_persist(
    store: S3Store, proxy: FaultProxy, boto_client: Any
) -> None:
    upload_id = store.create_multipart("flaky.bin", PutOptions(content_type="text/plain"))
    proxy.fail_next(100, status=500, code="InternalError", message="oops", match=deletes_upload)
    with pytest.raises(StoreUnavailableError):
        store.abort_multipart("flaky.bin", upload_id)
    assert len([r for r in proxy.requests if deletes_upload(r)]) == FAST_RETRIES.max_attempts
    proxy.clear()
    proxy.fail_next(2, status=500, code="InternalError", message="oops", match=deletes_upload)
    store.abort_multipart("flaky.bin", upload_id)
    assert [r.injected for r in proxy.requests if deletes_upload(r)] == ["error", "error", None]
    assert_nothing_left(boto_client, store)


# Downloads --------------------------------------------------------------------------------


def test_download_is_retried_after_slowdown_and_dropped_connections(
    files: FileStore, proxy: FaultProxy
) -> None:
    data = payload(300 * 1024, 8)
    stored = files.upload(data, filename="down.bin")
    proxy.clear()
    proxy.fail_next(1, match=gets)
    proxy.drop_next(1, match=gets)  # before any answer: the request is sent again
    assert hashlib.sha256(files.download(stored.key)).digest() == hashlib.sha256(data).digest()
    assert [r.injected for r in proxy.requests if gets(r)] == ["error", "drop", None]


def test_download_gives_up_with_a_typed_error(files: FileStore, proxy: FaultProxy) -> None:
    stored = files.upload(b"payload", filename="gone.bin")
    proxy.clear()
    proxy.fail_next(100, match=gets)
    with pytest.raises(ThrottledError) as caught:
        files.download(stored.key)
    assert caught.value.key == stored.key
    assert len([r for r in proxy.requests if gets(r)]) == FAST_RETRIES.max_attempts


def test_reset_mid_body_is_a_typed_error_not_a_silent_short_read(
    files: FileStore, proxy: FaultProxy
) -> None:
    data = payload(512 * 1024, 9)
    stored = files.upload(data, filename="cut.bin")
    proxy.clear()
    proxy.reset_next(1, after_body_bytes=64 * 1024, match=gets)
    received = bytearray()
    with pytest.raises(StoreUnavailableError):
        for chunk in files.iter_bytes(stored.key, chunk_size=8192):
            received += chunk
    assert 0 < len(received) <= 64 * 1024 and data.startswith(bytes(received))


# The policy's backoff, as the store waits it ----------------------------------------------


def test_store_retries_wait_the_policys_backoff(
    proxy: FaultProxy, s3_server: S3Server, s3_credentials: Credentials, session_bucket: str
) -> None:
    """The waits between attempts are the policy's delays, drawn from its own random
    generator: never shorter (a lower bound), never much longer (the ceiling holds)."""
    policy = RetryPolicy(max_attempts=5, base_delay=0.1, max_delay=0.2, rng=random.Random(11))
    expected = [
        RetryPolicy(base_delay=0.1, max_delay=0.2).delay(n, rng)
        for rng in [random.Random(11)]
        for n in range(4)
    ]
    assert sum(expected) > 0.2  # the seed gives waits worth measuring
    store = S3Store(
        session_bucket,
        endpoint_url=proxy.url,
        credentials=s3_credentials,
        region=s3_server.region,
        retry=policy,
    )
    try:
        proxy.fail_next(4, match=lambda r: r.method == "HEAD")
        with pytest.raises(FileNotFoundError):
            store.head(f"absent-{uuid.uuid4().hex}")
    finally:
        store.close()
    times = [r.at for r in proxy.requests if r.method == "HEAD"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(gaps) == 4
    for gap, delay in zip(gaps, expected, strict=True):
        assert delay - 0.005 <= gap <= delay + 0.15, (gaps, expected)
        assert gap <= policy.max_delay + 0.15
