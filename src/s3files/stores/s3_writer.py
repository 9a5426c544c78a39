"""Streaming uploads to S3: one PutObject for small objects, multipart for large ones.

Parts (``part_size`` bytes and at most one chunk more, ``max_concurrency`` in flight) are
the only buffers: memory stays about ``(part_size + chunk) * (max_concurrency + 1)``
whatever the object's size.
"""

from __future__ import annotations

import logging
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from s3files._errors import StoreError
from s3files._models import PutOptions
from s3files.stores._s3_errors import put_args, strip_etag, translate_s3_errors
from s3files.stores._s3_location import S3Location
from s3files.stores.s3_direct import S3DirectUploads
from s3files.stores.s3_http import FastPut

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

__all__ = ["S3Uploader", "S3Writer"]

_logger = logging.getLogger("s3files")


@dataclass(frozen=True, slots=True)
class S3Uploader:
    """What every writer of one store shares: clients, the part pool and the part size."""

    client: S3Client
    location: S3Location
    direct: S3DirectUploads
    executor: ThreadPoolExecutor
    fast_put: FastPut | None
    part_size: int
    max_concurrency: int


class S3Writer:
    """PutObject for small objects, multipart with bounded buffers for large ones."""

    def __init__(self, uploader: S3Uploader, key: str, options: PutOptions) -> None:
        self._up = uploader
        self._bucket = uploader.location.bucket
        self._key = key
        self._full_key = uploader.location.full_key(key)
        self._args = put_args(options)
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._upload_id: str | None = None
        self._parts: list[Future[dict[str, Any]]] = []
        self._in_flight: set[Future[dict[str, Any]]] = set()
        self._closed = False

    def write(self, data: bytes) -> None:
        if self._closed:
            raise StoreError("writer is closed", bucket=self._bucket, key=self._key)
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= self._up.part_size:
            self._flush()

    def _flush(self) -> None:
        """Send what is pending as one part (at least part_size, except the last: S3 only
        needs every part but the last to be 5 MiB or more, not all of one size)."""
        self._wait_for_slot()  # before joining, so memory stays bounded
        part = b"".join(self._pending)
        self._pending, self._pending_size = [], 0
        number = len(self._parts) + 1
        future = self._up.executor.submit(self._upload_part, number, part)
        self._parts.append(future)
        self._in_flight.add(future)

    def _wait_for_slot(self) -> None:
        with translate_s3_errors(self._bucket, self._key):
            if self._upload_id is None:
                created = self._up.client.create_multipart_upload(
                    Bucket=self._bucket, Key=self._full_key, **self._args
                )
                self._upload_id = created["UploadId"]
            while len(self._in_flight) >= self._up.max_concurrency:
                done, self._in_flight = wait(self._in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    future.result()

    def _upload_part(self, number: int, data: bytes) -> dict[str, Any]:
        assert self._upload_id is not None
        if self._up.fast_put is not None:  # no second SHA-256 of the part (s3_http)
            etag = self._up.fast_put.put_part(
                self._full_key, self._key, self._upload_id, number, data
            )
            if not etag:
                raise StoreError("UploadPart answered no ETag", bucket=self._bucket, key=self._key)
            return {"PartNumber": number, "ETag": f'"{etag}"'}
        with translate_s3_errors(self._bucket, self._key):
            response = self._up.client.upload_part(
                Bucket=self._bucket,
                Key=self._full_key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=data,
            )
        return {"PartNumber": number, "ETag": response["ETag"]}

    def commit(self) -> str | None:
        if self._closed:
            raise StoreError("writer is closed", bucket=self._bucket, key=self._key)
        if self._upload_id is None:
            etag = self._put_whole(b"".join(self._pending))
            self._closed = True
            return etag
        if self._pending:
            self._flush()
        parts = [future.result() for future in self._parts]
        etag = self._up.direct.finish(
            self._key, self._upload_id, [(p["PartNumber"], p["ETag"]) for p in parts]
        )
        self._closed = True
        return etag

    def _put_whole(self, body: bytes) -> str | None:
        if self._up.fast_put is not None:
            return self._up.fast_put.put(self._full_key, self._key, body, self._args)
        with translate_s3_errors(self._bucket, self._key):
            response = self._up.client.put_object(
                Bucket=self._bucket, Key=self._full_key, Body=body, **self._args
            )
        return strip_etag(response.get("ETag"))

    def abort(self) -> None:
        """Discard what was sent. Runs while another error is on its way up: a failure
        to abort is logged with the upload id (the parts stay stored until a lifecycle
        rule or ``s3files cleanup`` removes them), never raised over the original error."""
        if self._closed and self._upload_id is None:
            return
        self._closed = True
        self._pending, self._pending_size = [], 0
        for future in self._parts:
            future.cancel()
        wait(self._in_flight)
        if self._upload_id is None:
            return
        upload_id, self._upload_id = self._upload_id, None
        try:
            self._up.direct.abort_multipart(self._key, upload_id)
        except Exception as exc:  # whatever it is, the caller's own error comes first
            _logger.error(
                "could not abort multipart upload %s of %s/%s: %s",
                upload_id,
                self._bucket,
                self._full_key,
                exc,
                extra={"upload_id": upload_id, "bucket": self._bucket, "key": self._full_key},
            )
