"""``S3Connector``: the async S3 connector, over botocore clients on worker threads.

Every request goes through ``CallRunner`` (``_calls.py``): wait for the rate limiter, run
the blocking botocore call on a worker thread inside ``translate_s3_errors`` (the one place
botocore errors become s3files errors), and retry transient failures with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing
from functools import partial
from types import TracebackType
from typing import Any, Self, TypeVar

import anyio
import anyio.to_thread

from s3files._config import S3Config
from s3files._errors import (
    BucketNotFoundError,
    InvalidCredentialsError,
    InvalidInputError,
    ObjectNotFoundError,
    PermissionDeniedError,
    S3FilesError,
    StoreError,
)
from s3files._retry import RetryPolicy
from s3files.connector._calls import CallRunner, read_chunk
from s3files.connector._metadata import (
    SETTING_READERS,
    build_metadata,
    client_error,
    region_of,
    why_missing,
)
from s3files.connector._models import (
    BucketMetadata,
    S3Bucket,
    S3Object,
    S3ObjectPage,
    iso_timestamp,
)
from s3files.connector._pacing import RateLimiter
from s3files.connector._prefetch import prefetched_pages
from s3files.connector._session import Clients, parse_credentials
from s3files.stores._s3_errors import strip_etag

__all__ = ["SUPPORTED_OPERATIONS", "S3Connector", "S3ConnectorFactory"]

_T = TypeVar("_T")

#: What ``get_service_info()["supported_operations"]`` lists.
SUPPORTED_OPERATIONS = (
    "list_buckets",
    "get_bucket_metadata",
    "list_bucket_objects",
    "list_objects_page",
    "iter_bucket_objects",
    "get_object_content",
    "iter_object_content",
    "search_objects",
    "test_connection",
)
DEFAULT_CHUNK_SIZE = 1024 * 1024
MAX_PAGE_SIZE = 1000  # S3's own limit for one ListObjectsV2 page


def _bucket_page(clients: Clients, token: str | None) -> Mapping[str, Any]:
    if token:  # AWS pages ListBuckets; other stores answer everything at once
        return clients.s3.list_buckets(ContinuationToken=token)
    return clients.s3.list_buckets()


def _fetch_page(
    bucket: str, prefix: str, max_keys: int, token: str | None, clients: Clients
) -> S3ObjectPage:
    """One ListObjectsV2 page, parsed and converted on the calling (worker) thread."""
    args: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": max_keys}
    if token:
        args["ContinuationToken"] = token
    response = clients.s3.list_objects_v2(**args)
    next_token = response.get("NextContinuationToken") if response.get("IsTruncated") else None
    return S3ObjectPage(
        bucket_name=bucket,
        prefix=prefix,
        objects=[_object(entry, bucket) for entry in response.get("Contents", [])],
        next_continuation_token=next_token or None,
    )


def _object(entry: Mapping[str, Any], bucket: str) -> S3Object:
    return S3Object(
        key=entry["Key"],
        size=int(entry.get("Size") or 0),
        last_modified=iso_timestamp(entry.get("LastModified")),
        etag=strip_etag(str(entry.get("ETag") or "")) or "",
        storage_class=entry.get("StorageClass") or "STANDARD",
        bucket_name=bucket,
    )


class S3Connector:
    """Browse and read every bucket an account can reach, without blocking the event loop.

    >>> connector = S3Connector(rate_limit=100)
    >>> await connector.connect({"aws_access_key_id": "...", "aws_secret_access_key": "...",
    ...                          "region_name": "eu-west-1"})        # or {} for the AWS chain
    >>> [bucket.name for bucket in await connector.list_buckets()]
    >>> async for obj in connector.iter_bucket_objects("logs", prefix="2025/"):
    ...     print(obj.key, obj.size)

    ``rate_limit`` is requests per second (``None``: unlimited; default S3's 3,500 per
    prefix), ``rate_burst`` how many may go back to back. ``retry`` governs retries of
    throttling, 5xx and network failures. ``max_concurrency`` bounds worker threads and
    pooled connections. Use ``async with`` (or ``disconnect()``) to release connections.
    """

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        rate_limit: float | None = 3500.0,
        rate_burst: int = 1,
        retry: RetryPolicy | None = None,
        max_concurrency: int = 16,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.logger = logger or logging.getLogger("s3files.connector")
        self.limiter = RateLimiter(rate_limit, rate_burst) if rate_limit is not None else None
        self.retry = retry or RetryPolicy()
        self._calls = CallRunner(
            limiter=self.limiter,
            retry=self.retry,
            max_concurrency=max_concurrency,
            logger=self.logger,
        )
        self.max_concurrency = max_concurrency
        self._timeouts = (connect_timeout, read_timeout)
        self._clients: Clients | None = None
        self._account_id: str | None = None
        self._identity_arn: str | None = None

    def __repr__(self) -> str:
        if self._clients is None:
            return "S3Connector(not connected)"
        where = self._clients.endpoint_url or f"aws:{self._clients.region}"
        return f"S3Connector(endpoint={where!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.disconnect()

    # Connection -----------------------------------------------------------------------

    @property
    def is_connected(self) -> bool:
        return self._clients is not None

    async def connect(self, credentials: Mapping[str, Any] | S3Config | None = None) -> bool:
        """Connect with a credentials dict (``aws_access_key_id``,
        ``aws_secret_access_key``, optional ``aws_session_token``, ``region_name``, and for
        S3-compatible stores ``endpoint_url``), or an ``S3Config`` (``Settings.s3_config()``);
        ``None`` or ``{}`` uses the default AWS chain (environment, profile, IAM role).

        The credentials are checked before this returns: with STS GetCallerIdentity, which
        also gives the account id, or, where the store has no STS (Ceph RGW), with
        ListBuckets. Returns True; refused credentials raise ``InvalidCredentialsError``
        and an unreachable store ``StoreUnavailableError``, so a failed connect is never
        mistaken for an empty account. Connecting again replaces the earlier connection.
        """
        options = parse_credentials(credentials)
        connect_timeout, read_timeout = self._timeouts
        clients = await anyio.to_thread.run_sync(
            lambda: Clients.open(
                options,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                max_pool_connections=self.max_concurrency,
            )
        )
        try:
            account_id, arn = await self._verify(clients)
        except BaseException:
            await anyio.to_thread.run_sync(clients.close)
            raise
        await self.disconnect()
        self._clients, self._account_id, self._identity_arn = clients, account_id, arn
        self.logger.info(
            "s3 connector connected",
            extra={"endpoint": clients.endpoint_url, "region": clients.region},
        )
        return True

    async def _verify(self, clients: Clients) -> tuple[str | None, str | None]:
        try:
            identity = await self._call(
                lambda c: c.sts.get_caller_identity(), clients=clients, retry=False
            )
            return identity.get("Account"), identity.get("Arn")
        except S3FilesError as exc:
            self.logger.debug("STS GetCallerIdentity unavailable: %s", exc)
        await self._probe(clients)
        return None, None

    async def _probe(self, clients: Clients) -> None:
        """ListBuckets; AccessDenied still proves that the store accepted the credentials."""
        try:
            await self._call(lambda c: c.s3.list_buckets(), clients=clients)
        except InvalidCredentialsError:
            raise
        except PermissionDeniedError:
            return

    async def disconnect(self) -> bool:
        """Close the pooled connections; calls made afterwards raise ``RuntimeError``."""
        clients, self._clients = self._clients, None
        self._account_id = self._identity_arn = None
        if clients is not None:
            await anyio.to_thread.run_sync(clients.close)
        return True

    async def test_connection(self) -> bool:
        """True if the store answers and accepts the credentials; never raises for store
        errors (the reason is logged)."""
        if self._clients is None:
            return False
        try:
            await self._probe(self._clients)
        except S3FilesError as exc:
            self.logger.warning("s3 connection test failed: %s", exc)
            return False
        return True

    def get_service_info(self) -> dict[str, Any]:
        """``aws_account_id`` (from STS; ``None`` where the store has no STS, e.g. Ceph
        RGW), ``aws_region``, ``endpoint_url``, ``supported_operations`` and limits."""
        clients = self._clients
        return {
            "connected": clients is not None,
            "aws_account_id": self._account_id,
            "aws_identity_arn": self._identity_arn,
            "aws_region": clients.region if clients else None,
            "endpoint_url": clients.endpoint_url if clients else None,
            "supported_operations": list(SUPPORTED_OPERATIONS),
            "rate_limit_per_second": self.limiter.rate if self.limiter else None,
            "max_attempts": self.retry.max_attempts,
        }

    # Buckets --------------------------------------------------------------------------

    async def list_buckets(self) -> list[S3Bucket]:
        """Every bucket the credentials can list, with its creation date and region."""
        entries = await self._bucket_entries()

        async def region(entry: Mapping[str, Any]) -> str | None:
            if entry.get("BucketRegion"):
                return str(entry["BucketRegion"])
            return await self._bucket_region(entry["Name"], missing_ok=True)

        regions = await self._calls.gather([partial(region, entry) for entry in entries])
        return [
            S3Bucket(
                name=entry["Name"],
                creation_date=iso_timestamp(entry.get("CreationDate")),
                region=found,
            )
            for entry, found in zip(entries, regions, strict=True)
        ]

    async def _bucket_entries(self) -> list[Mapping[str, Any]]:
        entries: list[Mapping[str, Any]] = []
        token: str | None = None
        while True:
            response = await self._call(partial(_bucket_page, token=token))
            entries.extend(response.get("Buckets", []))
            token = response.get("ContinuationToken")
            if not token:
                return entries

    async def _bucket_region(self, bucket: str, *, missing_ok: bool = False) -> str | None:
        try:
            response = await self._call(
                lambda c: c.s3.get_bucket_location(Bucket=bucket), bucket=bucket
            )
        except BucketNotFoundError:
            if missing_ok:  # deleted between ListBuckets and this call
                return None
            raise
        except InvalidCredentialsError:
            raise
        except PermissionDeniedError:
            return None
        return region_of(response.get("LocationConstraint"))

    async def get_bucket_metadata(self, bucket_name: str) -> BucketMetadata:
        """Region, versioning, encryption, policy, CORS, lifecycle and tags of a bucket.

        Raises ``BucketNotFoundError`` for a missing bucket. Settings the bucket does not
        have, or the store does not support, are ``None``.
        """
        region = await self._bucket_region(bucket_name)
        unreadable: dict[str, str] = {} if region else {"region": "AccessDenied"}

        async def setting(name: str) -> Any:
            try:
                reader = SETTING_READERS[name]
                return await self._call(lambda c: reader(c, bucket_name), bucket=bucket_name)
            except (InvalidCredentialsError, BucketNotFoundError):
                raise
            except StoreError as exc:
                reason = why_missing(exc)
                if reason is None:
                    raise
                if reason == "denied":
                    unreadable[name] = client_error(exc)[0] or exc.code
                return None

        names = list(SETTING_READERS)
        found = await self._calls.gather([partial(setting, name) for name in names])
        return build_metadata(bucket_name, region, dict(zip(names, found, strict=True)), unreadable)

    # Objects --------------------------------------------------------------------------

    async def list_objects_page(
        self,
        bucket_name: str,
        prefix: str = "",
        *,
        max_keys: int = MAX_PAGE_SIZE,
        continuation_token: str | None = None,
    ) -> S3ObjectPage:
        """One ListObjectsV2 page of at most ``max_keys`` (≤ 1000) objects."""
        if not 1 <= max_keys <= MAX_PAGE_SIZE:
            raise InvalidInputError(
                f"max_keys must be between 1 and {MAX_PAGE_SIZE}", reason="invalid_page_size"
            )
        return await self._call(
            partial(_fetch_page, bucket_name, prefix, max_keys, continuation_token),
            bucket=bucket_name,
        )

    async def iter_bucket_objects(
        self, bucket_name: str, prefix: str = "", *, page_size: int = MAX_PAGE_SIZE
    ) -> AsyncGenerator[S3Object, None]:
        """Every object under ``prefix``, in key order, any number of them in constant
        memory: pages are fetched by a thread of their own, at most two ahead of the
        consumer (rate limit and retries apply as to every call). Stopping early?
        ``async with aclosing(...)`` ends the fetching at once."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidInputError(
                f"page_size must be between 1 and {MAX_PAGE_SIZE}", reason="invalid_page_size"
            )
        clients = self._connected()

        def fetch(token: str | None) -> S3ObjectPage:
            page = partial(_fetch_page, bucket_name, prefix, page_size, token)
            return self._calls.run_blocking(page, clients, bucket=bucket_name)

        pages = prefetched_pages(fetch, threads=self._calls.threads)
        async with aclosing(pages):
            async for page in pages:
                for item in page.objects:
                    yield item

    async def list_bucket_objects(
        self, bucket_name: str, prefix: str = "", max_keys: int = 1000
    ) -> list[S3Object]:
        """At most ``max_keys`` objects under ``prefix``, in key order (several pages if
        ``max_keys`` is over 1000). For all of a large bucket use ``iter_bucket_objects``."""
        if max_keys < 1:
            raise InvalidInputError("max_keys must be at least 1", reason="invalid_page_size")
        found: list[S3Object] = []
        token: str | None = None
        while len(found) < max_keys:
            page = await self.list_objects_page(
                bucket_name,
                prefix,
                max_keys=min(MAX_PAGE_SIZE, max_keys - len(found)),
                continuation_token=token,
            )
            found.extend(page.objects)
            token = page.next_continuation_token
            if token is None:
                break
        return found

    async def get_object_content(self, bucket_name: str, object_key: str) -> bytes | None:
        """The object's bytes, or ``None`` if there is no such object (a missing bucket
        raises ``BucketNotFoundError``). Large objects: use ``iter_object_content``."""

        def fetch(clients: Clients) -> bytes:
            body = clients.s3.get_object(Bucket=bucket_name, Key=object_key)["Body"]
            try:
                return body.read()
            finally:
                body.close()

        try:
            return await self._call(fetch, bucket=bucket_name, key=object_key)
        except ObjectNotFoundError:
            return None

    async def iter_object_content(
        self, bucket_name: str, object_key: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> AsyncGenerator[bytes, None]:
        """The object's bytes in chunks of at most ``chunk_size``; ``ObjectNotFoundError``
        if it is missing. A failure after the first chunk raises ``StoreUnavailableError``
        (nothing is fetched twice). Close early with ``contextlib.aclosing``."""
        if chunk_size < 1:
            raise InvalidInputError("chunk_size must be at least 1", reason="invalid_input")
        response = await self._call(
            lambda c: c.s3.get_object(Bucket=bucket_name, Key=object_key),
            bucket=bucket_name,
            key=object_key,
        )
        body, threads = response["Body"], self._calls.threads
        try:
            while True:
                chunk = await anyio.to_thread.run_sync(
                    read_chunk, body, chunk_size, bucket_name, object_key, limiter=threads
                )
                if not chunk:
                    return
                yield chunk
        finally:
            body.close()

    async def search_objects(
        self, query: str, bucket_name: str | None = None, *, max_results: int = 1000
    ) -> list[S3Object]:
        """Objects whose key starts with ``query``: in ``bucket_name``, or in every bucket
        (buckets the credentials may not list are skipped and logged). At most
        ``max_results`` objects, bucket by bucket in name order."""
        if bucket_name is not None:
            return await self.list_bucket_objects(bucket_name, query, max_keys=max_results)
        found: list[S3Object] = []
        for entry in sorted(await self._bucket_entries(), key=lambda e: str(e["Name"])):
            if len(found) >= max_results:
                break
            try:
                found.extend(
                    await self.list_bucket_objects(
                        entry["Name"], query, max_keys=max_results - len(found)
                    )
                )
            except InvalidCredentialsError:
                raise
            except (PermissionDeniedError, BucketNotFoundError) as exc:
                self.logger.info("search skips bucket %s: %s", entry["Name"], exc)
        return found

    # Plumbing -------------------------------------------------------------------------

    def _connected(self) -> Clients:
        if self._clients is None:
            raise RuntimeError("the connector is not connected: await connector.connect(...)")
        return self._clients

    async def _call(
        self,
        operation: Callable[[Clients], _T],
        *,
        bucket: str | None = None,
        key: str | None = None,
        clients: Clients | None = None,
        retry: bool = True,
    ) -> _T:
        """One request through the rate limit, a worker thread and the retries."""
        return await self._calls.run(
            operation, clients or self._connected(), bucket=bucket, key=key, retry=retry
        )


class S3ConnectorFactory:
    """A factory for code that is handed one rather than a connector:
    ``S3ConnectorFactory.create_connector(logger)``."""

    @staticmethod
    def create_connector(logger: logging.Logger | None = None, **options: Any) -> S3Connector:
        """A new, unconnected ``S3Connector``; ``options`` go to its constructor."""
        return S3Connector(logger, **options)
