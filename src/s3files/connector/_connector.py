"""``S3Connector``: brief 002's async connector, over botocore clients on worker threads.

Every request goes through :meth:`S3Connector._call`: wait for the rate limiter, run the
blocking botocore call on a worker thread inside ``translate_s3_errors`` (the one place
botocore errors become s3files errors), and retry transient failures with backoff.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import anyio
import anyio.to_thread
import botocore.exceptions

from s3files._errors import (
    BucketNotFoundError,
    InvalidCredentialsError,
    InvalidInputError,
    PermissionDeniedError,
    S3FilesError,
    StoreError,
)
from s3files.connector._models import (
    BucketMetadata,
    S3Bucket,
    S3Object,
    S3ObjectPage,
    iso_timestamp,
    jsonable,
)
from s3files.connector._pacing import RateLimiter, RetryPolicy
from s3files.connector._session import Clients, ConnectionOptions
from s3files.stores.s3 import translate_s3_errors

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

# Error codes meaning "this bucket has no such setting" or "this store has no such API".
_SETTING_ABSENT = frozenset(
    {
        "NoSuchBucketPolicy",
        "NoSuchCORSConfiguration",
        "NoSuchLifecycleConfiguration",
        "NoSuchTagSet",
        "NoSuchTagSetError",
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchEncryptionConfiguration",
    }
)
_SETTING_UNSUPPORTED = frozenset(
    {"NotImplemented", "MethodNotAllowed", "UnsupportedOperation", "XNotImplemented"}
)


def _client_error(error: BaseException) -> tuple[str, int]:
    """(S3 error code, HTTP status) of the botocore error behind a translated error."""
    cause = error.__cause__
    if isinstance(cause, botocore.exceptions.ClientError):
        code = str(cause.response.get("Error", {}).get("Code") or "")
        status = int(cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return code, status
    return "", 0


def _region_of(location: str | None) -> str:
    """GetBucketLocation's answer as a region: empty means us-east-1, ``EU`` eu-west-1."""
    if not location:
        return "us-east-1"
    return "eu-west-1" if location == "EU" else location


def _run_translated(
    operation: Callable[[Clients], _T], clients: Clients, bucket: str | None, key: str | None
) -> _T:
    with translate_s3_errors(bucket, key):
        return operation(clients)


def _read_chunk(body: Any, size: int, bucket: str, key: str) -> bytes:
    with translate_s3_errors(bucket, key):
        chunk: bytes = body.read(size)
        return chunk


def _object(entry: Mapping[str, Any], bucket: str) -> S3Object:
    return S3Object(
        key=entry["Key"],
        size=int(entry.get("Size") or 0),
        last_modified=iso_timestamp(entry.get("LastModified")),
        etag=str(entry.get("ETag") or "").strip('"'),
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
        self.max_concurrency = max_concurrency
        self._timeouts = (connect_timeout, read_timeout)
        self._threads = anyio.CapacityLimiter(max_concurrency)
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

    async def connect(self, credentials: Mapping[str, Any] | None = None) -> bool:
        """Connect with brief 002's credentials dict (``aws_access_key_id``,
        ``aws_secret_access_key``, optional ``aws_session_token``, ``region_name``, and for
        S3-compatible stores ``endpoint_url``); ``None`` or ``{}`` uses the default AWS
        chain (environment, profile, IAM role).

        The credentials are checked before this returns: with STS GetCallerIdentity, which
        also gives the account id, or, where the store has no STS (Ceph RGW), with
        ListBuckets. Returns True; refused credentials raise ``InvalidCredentialsError``
        and an unreachable store ``StoreUnavailableError``, so a failed connect is never
        mistaken for an empty account. Connecting again replaces the earlier connection.
        """
        options = ConnectionOptions.parse(credentials)
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

        regions = await self._gather([lambda e=entry: region(e) for entry in entries])
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
            args = {"ContinuationToken": token} if token else {}
            response = await self._call(lambda c: c.s3.list_buckets(**args))  # type: ignore[arg-type]
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
        return _region_of(response.get("LocationConstraint"))

    async def get_bucket_metadata(self, bucket_name: str) -> BucketMetadata:
        """Region, versioning, encryption, policy, CORS, lifecycle and tags of a bucket.

        Raises ``BucketNotFoundError`` for a missing bucket. Settings the bucket does not
        have, or the store does not support, are ``None``.
        """
        region = await self._bucket_region(bucket_name)
        unreadable: dict[str, str] = {}
        s3_calls: dict[str, Callable[[Clients], Any]] = {
            "versioning": lambda c: c.s3.get_bucket_versioning(Bucket=bucket_name),
            "encryption": lambda c: c.s3.get_bucket_encryption(Bucket=bucket_name),
            "policy": lambda c: c.s3.get_bucket_policy(Bucket=bucket_name),
            "cors": lambda c: c.s3.get_bucket_cors(Bucket=bucket_name),
            "lifecycle": lambda c: c.s3.get_bucket_lifecycle_configuration(Bucket=bucket_name),
            "tags": lambda c: c.s3.get_bucket_tagging(Bucket=bucket_name),
        }

        async def setting(name: str) -> Any:
            try:
                return await self._call(s3_calls[name], bucket=bucket_name)
            except (InvalidCredentialsError, BucketNotFoundError):
                raise
            except StoreError as exc:
                code, status = _client_error(exc)
                if code in _SETTING_ABSENT or code in _SETTING_UNSUPPORTED or status == 501:
                    return None
                if isinstance(exc, PermissionDeniedError):
                    unreadable[name] = code or exc.code
                    return None
                raise

        names = list(s3_calls)
        answers = dict(
            zip(names, await self._gather([lambda n=n: setting(n) for n in names]), strict=True)
        )
        return BucketMetadata(
            name=bucket_name,
            region=region,
            versioning=(answers["versioning"] or {}).get("Status") or None,
            encryption=jsonable(
                (answers["encryption"] or {}).get("ServerSideEncryptionConfiguration") or None
            ),
            policy=_policy(answers["policy"]),
            cors=jsonable((answers["cors"] or {}).get("CORSRules") or None),
            lifecycle=jsonable((answers["lifecycle"] or {}).get("Rules") or None),
            tags={t["Key"]: t["Value"] for t in (answers["tags"] or {}).get("TagSet", [])} or None,
            unreadable=unreadable,
        )

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
        args: dict[str, Any] = {"Bucket": bucket_name, "Prefix": prefix, "MaxKeys": max_keys}
        if continuation_token:
            args["ContinuationToken"] = continuation_token

        def fetch(clients: Clients) -> S3ObjectPage:
            # Parsed and converted on the worker thread: the event loop only gets the page.
            response = clients.s3.list_objects_v2(**args)
            token = response.get("NextContinuationToken") if response.get("IsTruncated") else None
            return S3ObjectPage(
                bucket_name=bucket_name,
                prefix=prefix,
                objects=[_object(entry, bucket_name) for entry in response.get("Contents", [])],
                next_continuation_token=token or None,
            )

        return await self._call(fetch, bucket=bucket_name)

    async def iter_bucket_objects(
        self, bucket_name: str, prefix: str = "", *, page_size: int = MAX_PAGE_SIZE
    ) -> AsyncIterator[S3Object]:
        """Every object under ``prefix``, page after page: memory holds one page whatever
        the number of objects."""
        token: str | None = None
        while True:
            page = await self.list_objects_page(
                bucket_name, prefix, max_keys=page_size, continuation_token=token
            )
            for item in page.objects:
                yield item
            token = page.next_continuation_token
            if token is None:
                return

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
        except FileNotFoundError:  # ObjectNotFoundError
            return None

    async def iter_object_content(
        self, bucket_name: str, object_key: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> AsyncIterator[bytes]:
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
        body = response["Body"]
        try:
            while True:
                chunk = await anyio.to_thread.run_sync(
                    _read_chunk, body, chunk_size, bucket_name, object_key, limiter=self._threads
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

    async def _call(
        self,
        operation: Callable[[Clients], _T],
        *,
        bucket: str | None = None,
        key: str | None = None,
        clients: Clients | None = None,
        retry: bool = True,
    ) -> _T:
        """Rate-limit, run on a worker thread with errors translated, retry if transient."""
        clients = clients or self._clients
        if clients is None:
            raise RuntimeError("the connector is not connected: await connector.connect(...)")
        attempts = 0
        while True:
            if self.limiter is not None:
                await self.limiter.acquire()
            attempts += 1
            try:
                return await anyio.to_thread.run_sync(
                    _run_translated, operation, clients, bucket, key, limiter=self._threads
                )
            except S3FilesError as exc:
                if not retry or not self.retry.should_retry(exc, attempts):
                    raise
                delay = self.retry.delay(attempts - 1)
                self.logger.info(
                    "s3 call failed, retrying in %.3fs (attempt %d of %d): %s",
                    delay,
                    attempts,
                    self.retry.max_attempts,
                    exc,
                )
                await anyio.sleep(delay)

    async def _gather(self, calls: Sequence[Callable[[], Awaitable[_T]]]) -> list[_T]:
        """Run ``calls`` concurrently; results in order, or the first error (not a group)."""
        results: list[Any] = [None] * len(calls)
        errors: list[S3FilesError] = []

        async def run(index: int, call: Callable[[], Awaitable[_T]]) -> None:
            try:
                results[index] = await call()
            except S3FilesError as exc:
                errors.append(exc)
                group.cancel_scope.cancel()

        async with anyio.create_task_group() as group:
            for index, call in enumerate(calls):
                group.start_soon(run, index, call)
        if errors:
            raise errors[0]
        return results


def _policy(answer: Mapping[str, Any] | None) -> dict[str, Any] | None:
    text = (answer or {}).get("Policy")
    if not text:
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"raw": text}
    return parsed if isinstance(parsed, dict) else {"raw": text}


class S3ConnectorFactory:
    """Brief 002's factory, so its examples run unchanged:
    ``S3ConnectorFactory.create_connector(logger)``."""

    @staticmethod
    def create_connector(logger: logging.Logger | None = None, **options: Any) -> S3Connector:
        """A new, unconnected ``S3Connector``; ``options`` go to its constructor."""
        return S3Connector(logger, **options)
