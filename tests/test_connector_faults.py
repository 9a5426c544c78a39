"""S3Connector under faults, through a real TCP proxy in front of the Ceph RGW
(tests/harness/proxy.py): throttling and 5xx answers are retried, resets surface as typed
network errors, and the client-side rate limit holds under a burst."""

from __future__ import annotations

import hashlib
import itertools
import random
import socket
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from s3files import ObjectNotFoundError, S3Connector, StoreUnavailableError, ThrottledError
from s3files.connector import RetryPolicy
from tests.conftest import new_bucket
from tests.harness.ceph import S3Server
from tests.harness.proxy import FaultProxy, RequestRecord

pytestmark = pytest.mark.anyio

FAST_RETRIES = RetryPolicy(max_attempts=5, base_delay=0.02, max_delay=0.1)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def proxy(s3_server: S3Server) -> Iterator[FaultProxy]:
    with FaultProxy.for_url(s3_server.endpoint_url) as running:
        yield running


@pytest.fixture
def bucket(boto_client: Any) -> str:
    name = new_bucket(boto_client)
    for n in range(3):
        boto_client.put_object(Bucket=name, Key=f"item-{n}", Body=b"x" * n)
    return name


def credentials_via(proxy: FaultProxy, s3_server: S3Server) -> dict[str, str]:
    return {
        "aws_access_key_id": s3_server.access_key,
        "aws_secret_access_key": s3_server.secret_key,
        "region_name": s3_server.region,
        "endpoint_url": proxy.url,
    }


async def connected(proxy: FaultProxy, s3_server: S3Server, **options: Any) -> S3Connector:
    options.setdefault("retry", FAST_RETRIES)
    connector = S3Connector(**options)
    await connector.connect(credentials_via(proxy, s3_server))
    proxy.clear()  # count only what the test itself sends
    return connector


def to_bucket(bucket: str) -> Any:
    return lambda record: record.target.split("?")[0].rstrip("/") == f"/{bucket}"


def to_key(bucket: str, key: str) -> Any:
    return lambda record: record.target.split("?")[0] == f"/{bucket}/{key}"


async def test_slowdown_is_retried_then_succeeds(
    proxy: FaultProxy, s3_server: S3Server, bucket: str
) -> None:
    connector = await connected(proxy, s3_server)
    proxy.fail_next(3, match=to_bucket(bucket))  # 503 SlowDown, S3's XML error body
    objects = await connector.list_bucket_objects(bucket)
    assert [o.key for o in objects] == ["item-0", "item-1", "item-2"]
    seen = proxy.requests
    assert [r.injected for r in seen] == ["error", "error", "error", None]
    await connector.disconnect()


async def test_iterator_retries_and_respects_the_rate_limit(
    proxy: FaultProxy, s3_server: S3Server, bucket: str
) -> None:
    """The iterator's pages come from a producer thread: same retries, same limiter."""
    connector = await connected(proxy, s3_server, rate_limit=5)
    await anyio.sleep(0.3)
    proxy.clear()
    proxy.fail_next(2, match=to_bucket(bucket))
    keys = [o.key async for o in connector.iter_bucket_objects(bucket, page_size=1)]
    assert keys == ["item-0", "item-1", "item-2"]
    assert [r.injected for r in proxy.requests] == ["error", "error", None, None, None]
    check_rate(proxy.requests, 5)  # 5 requests at 5/s: at least 0.8 s
    await connector.disconnect()


async def test_server_errors_are_retried(
    proxy: FaultProxy, s3_server: S3Server, bucket: str
) -> None:
    connector = await connected(proxy, s3_server)
    proxy.fail_next(2, status=500, code="InternalError", message="oops")
    assert await connector.get_object_content(bucket, "item-2") == b"xx"
    assert len(proxy.requests) == 3
    await connector.disconnect()


async def test_throttling_gives_up_after_max_attempts(
    proxy: FaultProxy, s3_server: S3Server, bucket: str
) -> None:
    connector = await connected(
        proxy, s3_server, retry=RetryPolicy(max_attempts=3, base_delay=0.02)
    )
    proxy.fail_next(10, match=to_bucket(bucket))
    with pytest.raises(ThrottledError) as caught:
        await connector.list_bucket_objects(bucket)
    assert caught.value.bucket == bucket and "SlowDown" in str(caught.value)
    assert len(proxy.requests) == 3
    await connector.disconnect()


async def test_backoff_waits_between_attempts(
    proxy: FaultProxy, s3_server: S3Server, bucket: str
) -> None:
    """Retries are spaced by the backoff: with full jitter each wait is random, drawn here
    from the policy's own seeded generator, so each gap is at least the wait the policy
    chose (a lower bound: the connector really sleeps) and at most that plus the request
    time; and the waits respect the ceilings."""
    policy = RetryPolicy(max_attempts=6, base_delay=0.1, max_delay=0.4, rng=random.Random(7))
    replay = random.Random(7)
    expected = [policy.delay(n, replay) for n in range(5)]
    ceilings = [0.1, 0.2, 0.4, 0.4, 0.4]
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(expected, ceilings, strict=True))
    assert sum(expected) > 0.3  # the seed gives waits worth measuring
    connector = await connected(proxy, s3_server, retry=policy)
    proxy.fail_next(5, match=to_bucket(bucket))
    await connector.list_bucket_objects(bucket)
    times = [r.at for r in proxy.requests]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(gaps) == 5
    for gap, wait, ceiling in zip(gaps, expected, ceilings, strict=True):
        assert wait - 0.005 <= gap <= wait + 0.15, (gaps, expected)
        assert gap <= ceiling + 0.15
    assert sum(gaps) <= sum(ceilings) + 0.5  # + request time
    await connector.disconnect()


async def test_not_implemented_is_not_retried_and_means_unsupported(
    proxy: FaultProxy, s3_server: S3Server, bucket: str
) -> None:
    connector = await connected(proxy, s3_server)
    proxy.fail_next(
        1,
        status=501,
        code="NotImplemented",
        message="A header you provided implies functionality that is not implemented",
        match=lambda record: "tagging" in record.target,
    )
    metadata = await connector.get_bucket_metadata(bucket)
    assert metadata.tags is None and metadata.unreadable == {}
    assert len([r for r in proxy.requests if "tagging" in r.target]) == 1
    await connector.disconnect()


async def test_bucket_encryption_is_reported(
    proxy: FaultProxy, s3_server: S3Server, bucket: str
) -> None:
    """Ceph RGW 16 cannot store a bucket encryption configuration; the proxy answers as AWS
    does, and the connector reports it."""
    answer = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm>"
        b"<KMSMasterKeyID>arn:aws:kms:us-east-1:123456789012:key/abc</KMSMasterKeyID>"
        b"</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled>"
        b"</Rule></ServerSideEncryptionConfiguration>"
    )
    connector = await connected(proxy, s3_server)
    proxy.respond_next(1, status=200, body=answer, match=lambda r: "encryption" in r.target)
    metadata = await connector.get_bucket_metadata(bucket)
    assert metadata.encryption == {
        "Rules": [
            {
                "ApplyServerSideEncryptionByDefault": {
                    "SSEAlgorithm": "aws:kms",
                    "KMSMasterKeyID": "arn:aws:kms:us-east-1:123456789012:key/abc",
                },
                "BucketKeyEnabled": True,
            }
        ]
    }
    await connector.disconnect()


@pytest.mark.parametrize("hard", [True, False], ids=["rst", "fin"])
async def test_reset_mid_stream_is_a_typed_network_error(
    proxy: FaultProxy, s3_server: S3Server, boto_client: Any, bucket: str, hard: bool
) -> None:
    payload = random.Random(3).randbytes(512 * 1024)
    boto_client.put_object(Bucket=bucket, Key="stream.bin", Body=payload)
    connector = await connected(proxy, s3_server)
    proxy.reset_next(after_body_bytes=64 * 1024, hard=hard, match=to_key(bucket, "stream.bin"))
    received = bytearray()
    with pytest.raises(StoreUnavailableError) as caught:
        async for chunk in connector.iter_object_content(bucket, "stream.bin", chunk_size=8192):
            received += chunk
    assert caught.value.bucket == bucket and caught.value.key == "stream.bin"
    assert isinstance(caught.value, ConnectionError)
    assert 0 < len(received) <= 64 * 1024  # what arrived before the reset, nothing invented
    assert payload.startswith(bytes(received))
    assert len(proxy.requests) == 1  # bytes already handed out are never fetched again
    await connector.disconnect()


@pytest.mark.parametrize("hard", [True, False], ids=["rst", "fin"])
async def test_reset_during_a_whole_read_is_retried(
    proxy: FaultProxy, s3_server: S3Server, boto_client: Any, bucket: str, hard: bool
) -> None:
    payload = random.Random(4).randbytes(300 * 1024)
    boto_client.put_object(Bucket=bucket, Key="whole.bin", Body=payload)
    connector = await connected(proxy, s3_server)
    proxy.reset_next(after_body_bytes=1000, hard=hard, match=to_key(bucket, "whole.bin"))
    content = await connector.get_object_content(bucket, "whole.bin")
    assert content is not None and hashlib.sha256(content).digest() == (
        hashlib.sha256(payload).digest()
    )
    assert [r.injected for r in proxy.requests] == ["reset", None]

    proxy.clear()
    proxy.reset_next(10, after_body_bytes=10, hard=hard, match=to_key(bucket, "whole.bin"))
    with pytest.raises(StoreUnavailableError):
        await connector.get_object_content(bucket, "whole.bin")
    assert len(proxy.requests) == FAST_RETRIES.max_attempts
    await connector.disconnect()


async def test_unreachable_store(s3_server: S3Server) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connector = S3Connector(retry=RetryPolicy(max_attempts=2, base_delay=0.01))
    with pytest.raises(StoreUnavailableError, match="cannot reach"):
        await connector.connect(
            {
                "aws_access_key_id": s3_server.access_key,
                "aws_secret_access_key": s3_server.secret_key,
                "endpoint_url": f"http://127.0.0.1:{port}",
            }
        )
    assert not connector.is_connected


async def test_missing_object_is_not_retried(
    proxy: FaultProxy, s3_server: S3Server, bucket: str
) -> None:
    connector = await connected(proxy, s3_server)
    assert await connector.get_object_content(bucket, "absent") is None
    with pytest.raises(ObjectNotFoundError):
        async for _ in connector.iter_object_content(bucket, "absent"):
            pass
    assert len(proxy.requests) == 2
    await connector.disconnect()


# The limiter spaces requests exactly where they leave the client; where they reach the
# proxy, the scheduler of a busy machine can delay one by some tens of milliseconds. A delay
# of the first request shortens the measured span, so spans are checked with this slack.
ARRIVAL_JITTER = 0.08


def check_rate(records: list[RequestRecord], limit: float) -> float:
    """Assert that the requests reached the proxy no faster than ``limit`` per second
    (their span at least ``(n - 1) / limit``, less the arrival jitter); return the span."""
    span = records[-1].at - records[0].at
    assert span >= (len(records) - 1) / limit - ARRIVAL_JITTER, (len(records), span)
    return span


async def test_rate_limit_holds_under_a_burst(
    proxy: FaultProxy, s3_server: S3Server, bucket: str
) -> None:
    connector = await connected(proxy, s3_server, rate_limit=20, max_concurrency=16)
    await anyio.sleep(0.2)  # whatever connect() used of the bucket has refilled
    proxy.clear()
    started = time.monotonic()
    async with anyio.create_task_group() as group:
        for n in range(40):
            group.start_soon(connector.get_object_content, bucket, f"item-{n % 3}")
    elapsed = time.monotonic() - started
    records = proxy.requests
    assert len(records) == 40
    span = check_rate(records, 20)  # 39 intervals of at least 1/20 s: 1.95 s
    assert 39 / span <= 20 * 1.05, 39 / span
    assert elapsed >= 1.95
    await connector.disconnect()


async def test_retries_count_against_the_rate_limit(
    proxy: FaultProxy, s3_server: S3Server, bucket: str
) -> None:
    connector = await connected(
        proxy, s3_server, rate_limit=10, retry=RetryPolicy(max_attempts=5, base_delay=0.0)
    )
    await anyio.sleep(0.2)
    proxy.clear()
    proxy.fail_next(4, match=to_bucket(bucket))
    started = time.monotonic()
    await connector.list_bucket_objects(bucket)
    assert time.monotonic() - started >= 0.4  # 4 intervals of 1/10 s, client side
    assert len(proxy.requests) == 5
    check_rate(proxy.requests, 10)
    await connector.disconnect()


async def test_burst_allowance(proxy: FaultProxy, s3_server: S3Server, bucket: str) -> None:
    """``rate_burst`` lets that many go at once, then the rate applies."""
    connector = await connected(proxy, s3_server, rate_limit=10, rate_burst=5)
    await anyio.sleep(0.6)  # refill the bucket completely
    proxy.clear()
    async with anyio.create_task_group() as group:
        for _ in range(10):
            group.start_soon(connector.get_object_content, bucket, "item-1")
    times = [r.at for r in proxy.requests]
    assert times[4] - times[0] < 0.25  # the first five together
    assert times[9] - times[0] >= 0.45  # the next five at 10/s
    await connector.disconnect()
