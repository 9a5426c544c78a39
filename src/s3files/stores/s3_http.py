"""PutObject and UploadPart without botocore.

botocore spends about 2 ms of CPU on every request (events, serialisation, signing); for many
small files that, not the network, is the limit. Over plain http it also hashes every
request body (SigV4's signed payload): for the parts of a large upload that is a second
SHA-256 of every byte, on top of the one ``FileStore`` computes for the record (about 1.2 s
of CPU per GB here), where over https botocore itself sends parts unsigned. This sends the
same PutObject and UploadPart through
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
        return self._retried("PutObject", full_key, key, body, headers_for(args), None)

    def put_part(
        self, full_key: str, key: str, upload_id: str, number: int, body: bytes
    ) -> str | None:
        """UploadPart ``number`` of multipart upload ``upload_id``; the part's ETag."""
        query = {"partNumber": str(number), "uploadId": upload_id}
        return self._retried("UploadPart", full_key, key, body, {}, query)

    def _retried(
        self,
        operation: str,
        full_key: str,
        key: str,
        body: bytes,
        headers: dict[str, str],
        query: dict[str, str] | None,
    ) -> str | None:
        attempts = 0
        while True:
            attempts += 1
            try:
                return self._put_once(operation, full_key, key, body, headers, query)
            except S3FilesError as exc:
                if not self._retry.should_retry(exc, attempts):
                    raise
                delay = self._retry.delay(attempts - 1)
                _logger.info(
                    "%s failed, retrying in %.3fs (attempt %d of %d): %s",
                    operation,
                    delay,
                    attempts,
                    self._retry.max_attempts,
                    exc,
                )
                time.sleep(delay)

    def _put_once(
        self,
        operation: str,
        full_key: str,
        key: str,
        body: bytes,
        headers: dict[str, str],
        query: dict[str, str] | None,
    ) -> str | None:
        location = self._location
        url = presign_url(
            method="PUT",
            origin=location.origin,
            path=location.object_path(full_key),
            host=location.host,
            credentials=self._credentials.current(location.bucket),
            region=location.region,
            expires_in=900,
            query=query,
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
            operation,
            location.bucket,
            key,
        )

    def close(self) -> None:
        self._pool.clear()
