"""PutObject without botocore, for objects that fit in one request.

botocore spends about 2 ms of CPU on every request (events, serialisation, signing); for many
small files that, not the network, is the limit. This sends the same PutObject through
urllib3 (botocore's own HTTP library) with a SigV4 query signature from ``s3files.signing``
that also binds every header, retrying server errors and throttling with backoff as
botocore's standard mode does.
"""

from __future__ import annotations

import random
import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import urllib3
from botocore.httpsession import get_cert_path

from s3files._errors import StoreUnavailableError
from s3files.signing import presign_url, quote_key

if TYPE_CHECKING:
    from s3files.stores.s3 import S3Store

__all__ = ["FastPut", "headers_for"]

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
    def __init__(
        self,
        store: S3Store,
        *,
        pool_size: int,
        connect_timeout: float,
        read_timeout: float,
        max_attempts: int,
    ) -> None:
        self._store = store
        self._attempts = max(1, max_attempts)
        self._pool = urllib3.PoolManager(
            maxsize=pool_size,
            retries=False,
            ca_certs=get_cert_path(True),
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        )

    def put(self, full_key: str, key: str, body: bytes, args: dict[str, Any]) -> str | None:
        """Store ``body`` under ``full_key``; the ETag, or the typed error."""
        from s3files.stores.s3 import error_for_response

        store = self._store
        headers = headers_for(args)
        failure: Exception | None = None
        for attempt in range(self._attempts):
            if attempt:
                time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))  # noqa: S311
            url = presign_url(
                method="PUT",
                origin=store._origin,
                path=f"{store._path_base}{quote_key(full_key)}",
                host=store._host,
                credentials=store._current_credentials(),
                region=store.region,
                expires_in=900,
                headers=headers,
            )
            try:
                response = self._pool.request("PUT", url, body=body, headers=headers)
            except urllib3.exceptions.HTTPError as exc:
                failure = StoreUnavailableError(
                    f"cannot reach the store: {exc}", bucket=store.bucket, key=key
                )
                failure.__cause__ = exc
                continue
            if 200 <= response.status < 300:
                etag = response.headers.get("ETag")
                return etag.strip('"') if etag else None
            code = _CODE.search(response.data or b"")
            message = _MESSAGE.search(response.data or b"")
            failure = error_for_response(
                code.group(1).decode("utf-8", "replace") if code else str(response.status),
                response.status,
                message.group(1).decode("utf-8", "replace") if message else "",
                store.bucket,
                key,
            )
            if not isinstance(failure, StoreUnavailableError):
                break
        assert failure is not None
        raise failure

    def close(self) -> None:
        self._pool.clear()
