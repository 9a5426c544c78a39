"""S3Connector (brief 002) against the real Ceph RGW: the brief's own examples, listing and
pagination, bucket metadata, content, search, credentials and typed errors."""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from datetime import datetime
from typing import Any

import anyio
import pytest

from s3files import (
    BucketNotFoundError,
    InvalidCredentialsError,
    InvalidInputError,
    ObjectNotFoundError,
    PermissionDeniedError,
    S3Bucket,
    S3Connector,
    S3Object,
)
from s3files.connector import RateLimiter, RetryPolicy, S3ObjectPage, StorageClass
from tests.conftest import new_bucket
from tests.harness.ceph import S3Server

pytestmark = pytest.mark.anyio

# Brief 002, "Basic Usage" and "Advanced Usage", verbatim.
BRIEF_BASIC_USAGE = """
from app.connectors.sources.s3.factories.connector_factory import S3ConnectorFactory

# Create connector using aioboto3
connector = S3ConnectorFactory.create_connector(logger)

# Connect with aioboto3
credentials = {
    "aws_access_key_id": "your_access_key",
    "aws_secret_access_key": "your_secret_key",
    "region_name": "us-east-1"
}
await connector.connect(credentials)

# List buckets using aioboto3
buckets = await connector.list_buckets()

# List objects in a bucket using aioboto3
objects = await connector.list_bucket_objects("my-bucket", max_keys=100)

# Get bucket metadata using aioboto3
metadata = await connector.get_bucket_metadata("my-bucket")

# Get object content using aioboto3
content = await connector.get_object_content("my-bucket", "path/to/file.txt")
"""

BRIEF_ADVANCED_USAGE = """
# Search objects by prefix using aioboto3
results = await connector.search_objects("important", "my-bucket")

# Get service information
info = connector.get_service_info()
print(f"AWS Account ID: {info['aws_account_id']}")
print(f"AWS Region: {info['aws_region']}")
print(f"Supported operations: {info['supported_operations']}")

# Test connection using aioboto3
if await connector.test_connection():
    print("✅ Connection successful using aioboto3")
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def credentials(s3_server: S3Server) -> dict[str, str]:
    return {
        "aws_access_key_id": s3_server.access_key,
        "aws_secret_access_key": s3_server.secret_key,
        "region_name": s3_server.region,
        "endpoint_url": s3_server.endpoint_url,
    }


@pytest.fixture
async def connector(credentials: dict[str, str]) -> Any:
    async with S3Connector(retry=RetryPolicy(max_attempts=3, base_delay=0.05)) as connected:
        await connected.connect(credentials)
        yield connected


@pytest.fixture
def seven_objects(boto_client: Any) -> tuple[str, dict[str, bytes]]:
    """A fresh bucket with seven objects, five of them under ``docs/``."""
    bucket = new_bucket(boto_client)
    contents = {f"docs/{n}.txt": f"document {n}".encode() * (n + 1) for n in range(5)}
    contents["important/plan.md"] = b"# the plan"
    contents["zz-last.bin"] = bytes(range(256)) * 4
    for key, body in contents.items():
        boto_client.put_object(Bucket=bucket, Key=key, Body=body)
    return bucket, contents


def run_example(source: str, namespace: dict[str, Any]) -> Any:
    """Compile a snippet with top-level ``await`` (as in the brief); returns a coroutine."""
    code = compile(source, "<brief 002>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    return eval(code, namespace)


# The brief's examples -------------------------------------------------------------------


async def test_brief_examples_run_with_only_the_import_changed(
    s3_server: S3Server, boto_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket = new_bucket(boto_client)
    boto_client.put_object(Bucket=bucket, Key="path/to/file.txt", Body=b"hello from RGW")
    boto_client.put_object(Bucket=bucket, Key="important/report.pdf", Body=b"%PDF-1.7")
    boto_client.put_object(Bucket=bucket, Key="misc/important.txt", Body=b"not a prefix match")

    basic = BRIEF_BASIC_USAGE.replace(
        "from app.connectors.sources.s3.factories.connector_factory import",
        "from s3files.connector import",
    )
    # The values of a real deployment: this RGW's keys, its endpoint, a fresh bucket.
    basic = (
        basic.replace('"your_access_key"', repr(s3_server.access_key))
        .replace('"your_secret_key"', repr(s3_server.secret_key))
        .replace(
            '"region_name": "us-east-1"',
            f'"region_name": "us-east-1", "endpoint_url": {s3_server.endpoint_url!r}',
        )
        .replace('"my-bucket"', repr(bucket))
    )
    advanced = BRIEF_ADVANCED_USAGE.replace('"my-bucket"', repr(bucket))
    namespace: dict[str, Any] = {"logger": logging.getLogger("brief002")}
    await run_example(basic, namespace)
    await run_example(advanced, namespace)
    try:
        assert bucket in [b.name for b in namespace["buckets"]]
        assert all(isinstance(b, S3Bucket) and b.creation_date for b in namespace["buckets"])
        assert sorted(o.key for o in namespace["objects"]) == [
            "important/report.pdf",
            "misc/important.txt",
            "path/to/file.txt",
        ]
        assert namespace["metadata"].name == bucket and namespace["metadata"].region
        assert namespace["content"] == b"hello from RGW"
        assert [o.key for o in namespace["results"]] == ["important/report.pdf"]
        printed = capsys.readouterr().out
        assert "AWS Account ID: None" in printed  # RGW 16 does not answer STS
        assert "AWS Region: us-east-1" in printed
        assert "'list_buckets'" in printed and "'search_objects'" in printed
        assert "✅ Connection successful" in printed
    finally:
        await namespace["connector"].disconnect()


# Listing and pagination -----------------------------------------------------------------


async def test_objects_have_brief_fields(
    connector: S3Connector, seven_objects: tuple[str, dict[str, bytes]]
) -> None:
    bucket, contents = seven_objects
    objects = await connector.list_bucket_objects(bucket)
    assert [o.key for o in objects] == sorted(contents)
    first = objects[0]
    assert isinstance(first, S3Object)
    assert first.bucket_name == bucket
    assert first.size == len(contents[first.key])
    assert first.etag == hashlib.md5(contents[first.key]).hexdigest()
    assert first.storage_class == StorageClass.STANDARD
    assert datetime.fromisoformat(first.last_modified).utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    # Reads like brief 002's dicts too.
    assert first["key"] == first.key and dict(first)["size"] == first.size
    assert json.loads(json.dumps(first.as_dict()))["bucket_name"] == bucket


async def test_pages_of_two(
    connector: S3Connector, seven_objects: tuple[str, dict[str, bytes]]
) -> None:
    bucket, contents = seven_objects
    assert len(await connector.list_bucket_objects(bucket, max_keys=2)) == 2
    pages: list[S3ObjectPage] = []
    token = None
    while True:
        page = await connector.list_objects_page(bucket, max_keys=2, continuation_token=token)
        pages.append(page)
        token = page.next_continuation_token
        if token is None:
            break
    assert [len(p.objects) for p in pages] == [2, 2, 2, 1]
    assert [p.is_truncated for p in pages] == [True, True, True, False]
    assert [o.key for p in pages for o in p.objects] == sorted(contents)

    streamed = [o.key async for o in connector.iter_bucket_objects(bucket, page_size=2)]
    assert streamed == sorted(contents)
    docs = [o.key async for o in connector.iter_bucket_objects(bucket, "docs/", page_size=2)]
    assert docs == [f"docs/{n}.txt" for n in range(5)]
    assert [o.key for o in await connector.list_bucket_objects(bucket, "docs/", 3)] == docs[:3]


async def test_iterator_stops_its_producer_when_closed_early(
    connector: S3Connector, seven_objects: tuple[str, dict[str, bytes]]
) -> None:
    bucket, contents = seven_objects

    def producers() -> int:
        return sum(t.name == "s3files-listing" and t.is_alive() for t in threading.enumerate())

    async with aclosing(connector.iter_bucket_objects(bucket, page_size=1)) as objects:
        async for first in objects:
            assert first.key == sorted(contents)[0]
            assert producers() == 1  # fetching ahead while we look at the first object
            break
    for _ in range(50):  # it notices within one poll interval (0.1 s) or one request
        if producers() == 0:
            break
        await anyio.sleep(0.05)
    assert producers() == 0
    with pytest.raises(InvalidInputError):
        async for _ in connector.iter_bucket_objects(bucket, page_size=0):
            pass


async def test_more_than_one_thousand(connector: S3Connector, boto_client: Any) -> None:
    bucket = new_bucket(boto_client)
    keys = [f"k/{n:05d}" for n in range(1005)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda key: boto_client.put_object(Bucket=bucket, Key=key, Body=b""), keys))
    listed = await connector.list_bucket_objects(bucket, max_keys=1003)
    assert [o.key for o in listed] == keys[:1003]
    assert len(await connector.list_bucket_objects(bucket, max_keys=5000)) == 1005
    count = 0
    async for _ in connector.iter_bucket_objects(bucket):
        count += 1
    assert count == 1005


async def test_page_size_is_checked(connector: S3Connector, session_bucket: str) -> None:
    for bad in (0, 1001):
        with pytest.raises(InvalidInputError):
            await connector.list_objects_page(session_bucket, max_keys=bad)
    with pytest.raises(InvalidInputError):
        await connector.list_bucket_objects(session_bucket, max_keys=0)


async def test_storage_classes(connector: S3Connector, boto_client: Any) -> None:
    bucket = new_bucket(boto_client)
    boto_client.put_object(Bucket=bucket, Key="cold", Body=b"x", StorageClass="STANDARD_IA")
    boto_client.put_object(Bucket=bucket, Key="hot", Body=b"x")
    classes = {o.key: o.storage_class for o in await connector.list_bucket_objects(bucket)}
    assert classes == {"cold": "STANDARD_IA", "hot": "STANDARD"}
    brief_six = {
        "STANDARD",
        "STANDARD_IA",
        "ONEZONE_IA",
        "INTELLIGENT_TIERING",
        "GLACIER",
        "DEEP_ARCHIVE",
    }
    assert brief_six <= {c.value for c in StorageClass}
    assert {c for c in StorageClass if c.needs_restore} == {"GLACIER", "DEEP_ARCHIVE"}
    assert all(StorageClass(c).description for c in brief_six)
    archived = S3Object("k", 1, "", "", "DEEP_ARCHIVE", bucket)
    assert (
        archived.needs_restore and not S3Object("k", 1, "", "", "ONEZONE_IA", bucket).needs_restore
    )


# Buckets and metadata ------------------------------------------------------------------


async def test_list_buckets(connector: S3Connector, boto_client: Any) -> None:
    bucket = new_bucket(boto_client)
    found = {b.name: b for b in await connector.list_buckets()}
    assert bucket in found
    assert found[bucket].region == "default"  # RGW reports its zonegroup
    assert datetime.fromisoformat(found[bucket].creation_date).year >= 2024
    assert found[bucket]["name"] == bucket


async def test_metadata_of_a_configured_bucket(connector: S3Connector, boto_client: Any) -> None:
    bucket = new_bucket(boto_client)
    boto_client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    cors = [{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "HEAD"]}]
    boto_client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": cors})
    rule = {"ID": "expire-tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}}
    boto_client.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={"Rules": [{**rule, "Expiration": {"Days": 7}}]},
    )
    boto_client.put_bucket_tagging(
        Bucket=bucket,
        Tagging={"TagSet": [{"Key": "team", "Value": "data"}, {"Key": "env", "Value": "test"}]},
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/public/*",
            }
        ],
    }
    boto_client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))

    metadata = await connector.get_bucket_metadata(bucket)
    assert metadata.name == bucket and metadata.region == "default"
    assert metadata.versioning == "Enabled"
    assert (
        metadata.cors is not None
        and metadata.cors[0]["AllowedOrigins"] == cors[0]["AllowedOrigins"]
    )
    assert metadata.lifecycle is not None and metadata.lifecycle[0]["ID"] == "expire-tmp"
    assert metadata.lifecycle[0]["Expiration"] == {"Days": 7}
    assert metadata.tags == {"team": "data", "env": "test"}
    assert metadata.policy is not None
    assert metadata.policy["Statement"][0]["Resource"] == policy["Statement"][0]["Resource"]
    assert metadata.encryption is None  # Ceph 16 refuses PutBucketEncryption
    assert metadata.unreadable == {}
    json.dumps(metadata.as_dict())  # JSON-ready as it is

    boto_client.put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Suspended"}
    )
    assert (await connector.get_bucket_metadata(bucket)).versioning == "Suspended"


async def test_metadata_of_a_plain_bucket_is_none(connector: S3Connector, boto_client: Any) -> None:
    bucket = new_bucket(boto_client)
    metadata = await connector.get_bucket_metadata(bucket)
    assert metadata.as_dict() == {
        "name": bucket,
        "region": "default",
        "versioning": None,
        "encryption": None,
        "policy": None,
        "cors": None,
        "lifecycle": None,
        "tags": None,
        "unreadable": {},
    }


async def test_access_denied(connector: S3Connector, boto_client: Any) -> None:
    """A bucket policy that denies even the owner: typed errors for reads, ``unreadable``
    for settings, and search across buckets skips the bucket."""
    bucket = new_bucket(boto_client)
    boto_client.put_object(Bucket=bucket, Key="denied-secret.txt", Body=b"x")
    denied = ["s3:ListBucket", "s3:GetObject", "s3:GetBucketTagging", "s3:GetBucketCORS"]
    statement = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": denied,
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
    }
    boto_client.put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )
    try:
        with pytest.raises(PermissionDeniedError) as listing:
            await connector.list_bucket_objects(bucket)
        assert listing.value.bucket == bucket
        assert not isinstance(listing.value, InvalidCredentialsError)
        with pytest.raises(PermissionDeniedError):
            await connector.get_object_content(bucket, "denied-secret.txt")
        metadata = await connector.get_bucket_metadata(bucket)
        assert metadata.tags is None and metadata.cors is None
        assert {"tags", "cors"} <= set(metadata.unreadable)
        assert metadata.policy is not None
        assert await connector.search_objects("denied-secret") == []
    finally:
        boto_client.delete_bucket_policy(Bucket=bucket)


async def test_missing_bucket(connector: S3Connector) -> None:
    missing = f"s3files-missing-{uuid.uuid4().hex[:12]}"
    with pytest.raises(BucketNotFoundError):  # raised by the producer thread, re-raised here
        async for _ in connector.iter_bucket_objects(missing):
            pass
    for call in (
        connector.list_bucket_objects(missing),
        connector.get_bucket_metadata(missing),
        connector.get_object_content(missing, "k"),
        connector.search_objects("x", missing),
    ):
        with pytest.raises(BucketNotFoundError) as caught:
            await call
        assert caught.value.bucket == missing


# Content ------------------------------------------------------------------------------


async def test_object_content(
    connector: S3Connector, seven_objects: tuple[str, dict[str, bytes]]
) -> None:
    bucket, contents = seven_objects
    assert await connector.get_object_content(bucket, "zz-last.bin") == contents["zz-last.bin"]
    assert await connector.get_object_content(bucket, "no/such/key") is None
    chunks = [c async for c in connector.iter_object_content(bucket, "zz-last.bin", chunk_size=100)]
    assert b"".join(chunks) == contents["zz-last.bin"]
    assert max(map(len, chunks)) <= 100 and len(chunks) == 11
    with pytest.raises(ObjectNotFoundError) as caught:
        async for _ in connector.iter_object_content(bucket, "no/such/key"):
            pass
    assert caught.value.key == "no/such/key"
    async with aclosing(connector.iter_object_content(bucket, "zz-last.bin", chunk_size=10)) as it:
        async for chunk in it:
            assert chunk == contents["zz-last.bin"][:10]
            break  # closing early releases the connection


async def test_large_object_streams(connector: S3Connector, boto_client: Any) -> None:
    bucket = new_bucket(boto_client)
    payload = random.Random(7).randbytes(3 * 1024 * 1024 + 17)
    boto_client.put_object(Bucket=bucket, Key="big.bin", Body=payload)
    digest = hashlib.sha256()
    async for chunk in connector.iter_object_content(bucket, "big.bin", chunk_size=256 * 1024):
        digest.update(chunk)
    assert digest.digest() == hashlib.sha256(payload).digest()


# Search -------------------------------------------------------------------------------


async def test_search(connector: S3Connector, boto_client: Any) -> None:
    marker = f"needle-{uuid.uuid4().hex[:8]}"
    first, second = new_bucket(boto_client), new_bucket(boto_client)
    for bucket, count in ((first, 3), (second, 2)):
        for n in range(count):
            boto_client.put_object(Bucket=bucket, Key=f"{marker}/{n}", Body=b"x")
        boto_client.put_object(Bucket=bucket, Key=f"other/{marker}", Body=b"x")
    in_one = await connector.search_objects(marker, first)
    assert [o.key for o in in_one] == [f"{marker}/{n}" for n in range(3)]
    everywhere = await connector.search_objects(marker)
    assert sorted((o.bucket_name, o.key) for o in everywhere) == sorted(
        [(first, f"{marker}/{n}") for n in range(3)] + [(second, f"{marker}/{n}") for n in range(2)]
    )
    assert len(await connector.search_objects(marker, max_results=4)) == 4
    assert await connector.search_objects(f"{marker}-absent") == []


# Connection, credentials, service info -------------------------------------------------


async def test_service_info_on_rgw(connector: S3Connector, s3_server: S3Server) -> None:
    info = connector.get_service_info()
    assert info["aws_account_id"] is None  # RGW 16 answers STS GetCallerIdentity with 405
    assert info["aws_region"] == s3_server.region
    assert info["endpoint_url"] == s3_server.endpoint_url
    assert info["connected"] is True
    brief_methods = {
        "list_buckets",
        "list_bucket_objects",
        "get_bucket_metadata",
        "get_object_content",
        "search_objects",
        "test_connection",
    }
    assert brief_methods <= set(info["supported_operations"])
    assert all(hasattr(connector, name) for name in info["supported_operations"])
    assert await connector.test_connection() is True


async def test_bad_credentials(credentials: dict[str, str]) -> None:
    connector = S3Connector()
    for changes in (
        {"aws_secret_access_key": "not-the-secret"},
        {"aws_access_key_id": "AKIANOSUCHKEY0000000"},
    ):
        with pytest.raises(InvalidCredentialsError):
            await connector.connect({**credentials, **changes})
        assert not connector.is_connected
    assert await connector.test_connection() is False


async def test_credentials_are_checked(credentials: dict[str, str]) -> None:
    connector = S3Connector()
    with pytest.raises(InvalidInputError, match="unknown credential keys"):
        await connector.connect({**credentials, "aws_secret_key": "typo"})
    with pytest.raises(InvalidInputError, match="both"):
        await connector.connect({"aws_access_key_id": "x", "endpoint_url": "http://127.0.0.1:9"})
    with pytest.raises(InvalidInputError, match="endpoint_url"):
        await connector.connect({"endpoint_url": "ftp://example.com"})
    with pytest.raises(RuntimeError, match="not connected"):
        await connector.list_buckets()
    assert connector.get_service_info()["connected"] is False


async def test_default_credential_chain(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    async with S3Connector() as connector:
        assert await connector.connect({"endpoint_url": s3_server.endpoint_url}) is True
        assert isinstance(await connector.list_buckets(), list)
        assert connector.get_service_info()["aws_region"] == "us-east-1"
    assert not connector.is_connected  # `async with` disconnected it
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(InvalidCredentialsError, match="no S3 credentials"):
        await S3Connector().connect({"endpoint_url": s3_server.endpoint_url})


async def test_reconnect_and_disconnect(
    connector: S3Connector, credentials: dict[str, str]
) -> None:
    assert await connector.connect(credentials) is True  # replaces the first connection
    assert await connector.test_connection()
    assert await connector.disconnect() is True
    assert not connector.is_connected and await connector.test_connection() is False
    with pytest.raises(RuntimeError):
        await connector.get_object_content("b", "k")


def test_rate_limiter_slots() -> None:
    """The token bucket's arithmetic, on a clock the test moves by hand."""
    now = [100.0]
    strict = RateLimiter(20, clock=lambda: now[0])
    assert [round(strict.reserve(), 3) for _ in range(4)] == [0.0, 0.05, 0.1, 0.15]
    bursty = RateLimiter(10, burst=5, clock=lambda: now[0])
    assert [round(bursty.reserve(), 3) for _ in range(7)] == [0, 0, 0, 0, 0, 0.1, 0.2]
    now[0] += 60  # idle: the whole burst is available again, not more
    assert [round(bursty.reserve(), 3) for _ in range(6)] == [0, 0, 0, 0, 0, 0.1]
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError):
        RateLimiter(1, burst=0)


def test_retry_policy_backoff_with_full_jitter() -> None:
    policy = RetryPolicy(max_attempts=4, base_delay=0.1, max_delay=0.5)
    rng = random.Random(1)
    for retry, ceiling in enumerate((0.1, 0.2, 0.4, 0.5, 0.5)):
        assert policy.ceiling(retry) == pytest.approx(ceiling)
        delays = [policy.delay(retry, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        # spread over the whole range (full jitter): near the ceiling and near zero, about
        # half the ceiling on average, and not zero (the wait is real)
        assert max(delays) > ceiling * 0.8
        assert min(delays) < ceiling * 0.2
        assert 0.35 * ceiling < sum(delays) / len(delays) < 0.65 * ceiling
        assert sum(delays) > 0
    seeded = RetryPolicy(max_attempts=4, base_delay=0.1, max_delay=0.5, rng=random.Random(3))
    again = random.Random(3)
    assert [seeded.delay(n) for n in range(4)] == [seeded.delay(n, again) for n in range(4)]
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_delay=-1)
