"""PutObject without botocore, for objects that fit in one request.

botocore spends about 2 ms of CPU on every request (events, serialisation, signing); for many
small files that, not the network, is the limit. This sends the same PutObject through
urllib3 (botocore's own HTTP library) with a SigV4 query signature from ``s3files.signing``
that also binds every header, retrying server errors, throttling and connection failures
by the same ``RetryPolicy`` (``s3files._retry``) as the store's botocore calls.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any
from urllib.parse import urlencode

import urllib3
from botocore.httpsession import get_cert_path

from s3files._errors import S3FilesError, StoreUnavailableError
from s3files._retry import RetryPolicy
from s3files.signing import presign_url
from s3files.stores._s3_errors import answer_error, strip_etag
from s3files.stores._s3_location import CredentialSource, S3Location

__all__ = ["FastPut", "headers_for"]

_logger = logging.getLogger("s3files")
_CODE = re.compile(rb"<Code>([^<]{1,128})</Code>")
_MESSAGE = re.compile(rb"<Message>([^<]{0,512})</Message>")
_HEADERS = {
    "ContentType": "content-type",
    "ContentDisposition": "content-disposition",
    "ServerSideEncryption": "x-amz-server-side-encryption",
    "SSEKMSKeyId": "x-amz-server-side-encryption-aws-kms-key-id",
    "StorageClass": "x-amz-storage-class",
}


def headers_for(args: dict[str, Any]) -> dict[str, str]:
    """PutObject's parameters (as S3Store builds them for botocore) as HTTP headers."""
    headers = {name: str(args[param]) for param, name in _HEADERS.items() if args.get(param)}
    for key, value in (args.get("Metadata") or {}).items():
        headers[f"x-amz-meta-{key}"] = str(value)
    if args.get("Tagging"):
        tagging = args["Tagging"]
        headers["x-amz-tagging"] = tagging if isinstance(tagging, str) else urlencode(tagging)
    return headers


class FastPut:
    """PutObject over a urllib3 pool, retried by the store's ``RetryPolicy``."""

    def __init__(
        self,
        location: S3Location,
        credentials: CredentialSource,
        *,
        retry: RetryPolicy,
        pool_size: int,
        connect_timeout: float,
        read_timeout: float,
    ) -> None:
        self._location = location
        self._credentials = credentials
        self._retry = retry
        self._pool = urllib3.PoolManager(
            maxsize=pool_size,
            retries=False,
            ca_certs=get_cert_path(True),
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        )

    def put(self, full_key: str, key: str, body: bytes, args: dict[str, Any]) -> str | None:
        """Store ``body`` under ``full_key``; the ETag, or the typed error."""
        attempts = 0
        while True:
            attempts += 1
            try:
                return self._put_once(full_key, key, body, args)
            except S3FilesError as exc:
                if not self._retry.should_retry(exc, attempts):
                    raise
                delay = self._retry.delay(attempts - 1)
                _logger.info(
                    "PutObject failed, retrying in %.3fs (attempt %d of %d): %s",
                    delay,
                    attempts,
                    self._retry.max_attempts,
                    exc,
                )
                time.sleep(delay)

    def _put_once(self, full_key: str, key: str, body: bytes, args: dict[str, Any]) -> str | None:
        location = self._location
        headers = headers_for(args)
        url = presign_url(
            method="PUT",
            origin=location.origin,
            path=location.object_path(full_key),
            host=location.host,
            credentials=self._credentials.current(location.bucket),
            region=location.region,
            expires_in=900,
            headers=headers,
        )
        try:
            response = self._pool.request("PUT", url, body=body, headers=headers)
        except urllib3.exceptions.HTTPError as exc:
            raise StoreUnavailableError(
                f"cannot reach the store: {exc}", bucket=location.bucket, key=key
            ) from exc
        if 200 <= response.status < 300:
            return strip_etag(response.headers.get("ETag"))
        code = _CODE.search(response.data or b"")
        message = _MESSAGE.search(response.data or b"")
        raise answer_error(
            code.group(1).decode("utf-8", "replace") if code else str(response.status),
            response.status,
            message.group(1).decode("utf-8", "replace") if message else "",
            "PutObject",
            location.bucket,
            key,
        )

    def close(self) -> None:
        self._pool.clear()
