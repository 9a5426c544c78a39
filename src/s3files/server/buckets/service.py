"""The service's connector (connected on first use, closed by the lifespan) and the
operations behind the bucket endpoints."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import anyio

from s3files._config import Settings
from s3files._errors import BucketNotFoundError
from s3files.connector import S3Connector
from s3files.server.api_error import ApiError
from s3files.server.buckets.schemas import (
    BucketDetail,
    BucketList,
    BucketOut,
    ObjectOut,
    ObjectPage,
    SearchResults,
)

__all__ = ["BucketService", "ServiceConnector"]


class ServiceConnector:
    """One ``S3Connector`` per app, with the credentials, endpoint and region of the
    service's own S3 store. It connects on the first request that needs it (a store that
    is down at start-up does not stop the service) and again after a failed connect."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._connector: S3Connector | None = None
        self._lock = anyio.Lock()

    @property
    def available(self) -> bool:
        """Only an S3 store has buckets to browse; the local disk has none."""
        return self._settings.storage_location().scheme == "s3"

    async def get(self) -> S3Connector:
        if not self.available:
            raise ApiError(
                404,
                "not_available",
                "bucket administration needs an S3 store (S3FILES_STORAGE_URL=s3://...); "
                "this service keeps files on the local disk",
            )
        async with self._lock:
            if self._connector is None:
                connector = S3Connector()
                await connector.connect(self._settings.s3_config())
                self._connector = connector
            return self._connector

    async def aclose(self) -> None:
        connector, self._connector = self._connector, None
        if connector is not None:
            await connector.disconnect()


@contextlib.contextmanager
def _named_bucket(name: str) -> Iterator[None]:
    """A bucket the caller names that does not exist is the caller's 404 (for the files
    API a missing bucket is the service's own misconfiguration, hence 502 there)."""
    try:
        yield
    except BucketNotFoundError:
        raise ApiError(404, "bucket_not_found", f"no bucket named {name!r}") from None


class BucketService:
    """What the bucket endpoints do, over a connected ``S3Connector``."""

    def __init__(self, connector: S3Connector) -> None:
        self.connector = connector

    async def list_buckets(self) -> BucketList:
        buckets = await self.connector.list_buckets()
        return BucketList(items=[BucketOut.of(b) for b in sorted(buckets, key=lambda b: b.name)])

    async def bucket(self, name: str) -> BucketDetail:
        with _named_bucket(name):
            return BucketDetail.of(await self.connector.get_bucket_metadata(name))

    async def objects(
        self, name: str, *, prefix: str, max_keys: int, continuation_token: str | None
    ) -> ObjectPage:
        with _named_bucket(name):
            page = await self.connector.list_objects_page(
                name, prefix, max_keys=max_keys, continuation_token=continuation_token
            )
        return ObjectPage(
            bucket=name,
            prefix=prefix,
            items=[ObjectOut.of(o) for o in page.objects],
            next_continuation_token=page.next_continuation_token,
        )

    async def search(self, query: str, *, bucket: str | None, limit: int) -> SearchResults:
        with _named_bucket(bucket or ""):
            found = await self.connector.search_objects(query, bucket, max_results=limit + 1)
        return SearchResults(
            query=query,
            bucket=bucket,
            items=[ObjectOut.of(o) for o in found[:limit]],
            truncated=len(found) > limit,
        )
