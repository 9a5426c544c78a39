"""The S3 store: any S3-compatible server (AWS S3, Ceph RGW, MinIO, R2) through botocore.

Uploads stream through ``_S3Writer``: small objects are one PutObject, larger ones a
multipart upload whose parts (``part_size`` bytes and at most one chunk more,
``max_concurrency`` in flight) are the only buffers; memory stays about
``(part_size + chunk) * (max_concurrency + 1)`` whatever the object's size. Presigned URLs
are signed by ``s3files.signing``, and small objects are put without botocore
(``s3_http.FastPut``): botocore's CPU per request, not the network, limits many small files.
"""

from __future__ import annotations

import contextlib
import threading
import urllib.request
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode, urlsplit

import boto3
import botocore.exceptions
from botocore.config import Config

from s3files._errors import (
    BucketNotFoundError,
    InvalidCredentialsError,
    InvalidInputError,
    ObjectNotFoundError,
    PermissionDeniedError,
    S3FilesError,
    StoreError,
    StoreUnavailableError,
    ThrottledError,
)
from s3files._models import (
    Encryption,
    ListPage,
    ObjectInfo,
    PresignedURL,
    PutOptions,
    decode_metadata,
)
from s3files.signing import Credentials, presign_url, quote_key
from s3files.stores.base import DEFAULT_CHUNK_SIZE, decode_token, encode_token
from s3files.stores.s3_direct import S3DirectUploads
from s3files.stores.s3_http import FastPut

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

__all__ = ["S3Store", "translate_s3_errors"]

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_SINGLE_COPY = 5 * 1024**3
AddressingStyle = Literal["auto", "path", "virtual"]

_NOT_FOUND = {"NoSuchKey", "404", "NotFound", "NoSuchVersion"}
_BAD_CREDENTIALS = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "InvalidClientTokenId",
    "AuthorizationHeaderMalformed",
}
_THROTTLED = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequests",
    "503",
}
_INVALID = {
    "InvalidArgument",
    "InvalidRequest",
    "InvalidStorageClass",
    "EntityTooLarge",
    "EntityTooSmall",
    "KeyTooLongError",
    "MetadataTooLarge",
    "InvalidRange",
    "InvalidEncryptionAlgorithmError",
    "InvalidTag",
    "InvalidPart",
    "InvalidPartOrder",
    "NoSuchUpload",
    "400",
    "416",
    "MalformedXML",
}


def error_for_response(
    code: str, status: int, message: str, bucket: str | None, key: str | None
) -> S3FilesError:
    """The s3files error for an S3 error response (code from its XML body, HTTP status)."""
    if code == "NoSuchBucket":
        return BucketNotFoundError(f"bucket does not exist ({code})", bucket=bucket)
    if code in _NOT_FOUND:
        return ObjectNotFoundError("no such object", bucket=bucket, key=key)
    if code in _BAD_CREDENTIALS:
        return InvalidCredentialsError(
            f"the store refused the credentials ({code})", bucket=bucket, key=key
        )
    if code in ("AccessDenied", "403", "AllAccessDisabled") or status == 403:
        return PermissionDeniedError(f"access denied ({code})", bucket=bucket, key=key)
    if code in _THROTTLED:
        return ThrottledError(f"the store is throttling ({code})", bucket=bucket, key=key)
    if code in _INVALID or status in (400, 411, 416):
        reason = "invalid_range" if code in ("InvalidRange", "416") else code or "invalid"
        return InvalidInputError(
            f"the store refused the request: {message} ({code})",
            reason=reason,
            bucket=bucket,
            key=key,
        )
    if status >= 500:
        return StoreUnavailableError(
            f"the store failed: {message} ({code or status})", bucket=bucket, key=key
        )
    return StoreError(f"S3 error: {message} ({code})", bucket=bucket, key=key)


@contextlib.contextmanager
def translate_s3_errors(bucket: str | None, key: str | None = None) -> Iterator[None]:
    """The one place where botocore errors become s3files errors."""
    try:
        yield
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        message = str(error.get("Message") or code or "S3 error")
        raise error_for_response(code, status, message, bucket, key) from exc
    except (
        botocore.exceptions.NoCredentialsError,
        botocore.exceptions.PartialCredentialsError,
    ) as exc:
        raise InvalidCredentialsError(
            "no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE, or run where an IAM role is available",
            bucket=bucket,
            key=key,
        ) from exc
    except botocore.exceptions.ParamValidationError as exc:
        raise InvalidInputError(f"invalid request: {exc}", bucket=bucket, key=key) from exc
    except (
        botocore.exceptions.ConnectionError,
        botocore.exceptions.HTTPClientError,
        botocore.exceptions.IncompleteReadError,  # the connection closed mid-body
    ) as exc:
        raise StoreUnavailableError(
            f"cannot reach the store: {exc}", bucket=bucket, key=key
        ) from exc


def _etag(value: str | None) -> str | None:
    return value.strip('"') if value else value


class _S3Writer:
    """PutObject for small objects, multipart with bounded buffers for large ones."""

    def __init__(self, store: S3Store, key: str, options: PutOptions) -> None:
        self._store = store
        self._key = key
        self._full_key = store._full_key(key)
        self._args = store._put_args(options)
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._upload_id: str | None = None
        self._parts: list[Future[dict[str, Any]]] = []
        self._in_flight: set[Future[dict[str, Any]]] = set()
        self._closed = False

    def write(self, data: bytes) -> None:
        if self._closed:
            raise StoreError("writer is closed", bucket=self._store.bucket, key=self._key)
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= self._store.part_size:
            self._flush()

    def _flush(self) -> None:
        """Send what is pending as one part (at least part_size, except the last: S3 only
        needs every part but the last to be 5 MiB or more, not all of one size)."""
        self._wait_for_slot()  # before joining, so memory stays bounded
        part = b"".join(self._pending)
        self._pending, self._pending_size = [], 0
        self._send_part(part)

    def _wait_for_slot(self) -> None:
        store = self._store
        with translate_s3_errors(store.bucket, self._key):
            if self._upload_id is None:
                created = store.client.create_multipart_upload(
                    Bucket=store.bucket, Key=self._full_key, **self._args
                )
                self._upload_id = created["UploadId"]
            while len(self._in_flight) >= store.max_concurrency:
                done, self._in_flight = wait(self._in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    future.result()

    def _send_part(self, data: bytes) -> None:
        number = len(self._parts) + 1
        future = self._store._executor.submit(self._upload_part, number, data)
        self._parts.append(future)
        self._in_flight.add(future)

    def _upload_part(self, number: int, data: bytes) -> dict[str, Any]:
        store = self._store
        assert self._upload_id is not None
        response = store.client.upload_part(
            Bucket=store.bucket,
            Key=self._full_key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=data,
        )
        return {"PartNumber": number, "ETag": response["ETag"]}

    def commit(self) -> str | None:
        if self._closed:
            raise StoreError("writer is closed", bucket=self._store.bucket, key=self._key)
        store = self._store
        with translate_s3_errors(store.bucket, self._key):
            if self._upload_id is None:
                body = b"".join(self._pending)
                if store._fast_put is not None:
                    etag = store._fast_put.put(self._full_key, self._key, body, self._args)
                else:
                    response = store.client.put_object(
                        Bucket=store.bucket, Key=self._full_key, Body=body, **self._args
                    )
                    etag = _etag(response.get("ETag"))
                self._closed = True
                return etag
            if self._pending:
                self._flush()
            parts = [future.result() for future in self._parts]
            etag = store._finish_multipart(
                self._full_key, self._upload_id, [(p["PartNumber"], p["ETag"]) for p in parts]
            )
            self._closed = True
            return etag

    def abort(self) -> None:
        if self._closed and self._upload_id is None:
            return
        self._closed = True
        self._pending, self._pending_size = [], 0
        for future in self._parts:
            future.cancel()
        wait(self._in_flight)
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            with (
                contextlib.suppress(StoreError),
                translate_s3_errors(self._store.bucket, self._key),
            ):
                self._store.client.abort_multipart_upload(
                    Bucket=self._store.bucket, Key=self._full_key, UploadId=upload_id
                )


class S3Store(S3DirectUploads):
    """One bucket (and optional key prefix) on an S3-compatible server. Thread-safe.

    >>> store = S3Store("my-bucket", region="eu-west-1")                      # AWS
    >>> store = S3Store("test", endpoint_url="http://127.0.0.1:7480",          # Ceph, MinIO
    ...                 credentials=Credentials("key", "secret"))
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        credentials: Credentials | None = None,
        profile: str | None = None,
        addressing_style: AddressingStyle = "auto",
        part_size: int = 8 * 1024 * 1024,
        max_concurrency: int = 4,
        connect_timeout: float = 10,
        read_timeout: float = 60,
        max_attempts: int = 5,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum)")
        endpoint_url = endpoint_url or None
        self._bucket = bucket
        self.prefix = prefix.strip("/")
        self.region = region
        self.endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None
        self.part_size = part_size
        self.max_concurrency = max(1, max_concurrency)
        if addressing_style == "auto":
            addressing_style = "path" if endpoint_url or "." in bucket else "virtual"
        self.addressing_style = addressing_style
        session = boto3.session.Session(
            aws_access_key_id=credentials.access_key if credentials else None,
            aws_secret_access_key=credentials.secret_key if credentials else None,
            aws_session_token=credentials.session_token if credentials else None,
            region_name=region,
            profile_name=profile,
        )
        self._session = session
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": addressing_style},
            retries={"max_attempts": max_attempts, "mode": "standard"},
            max_pool_connections=max(16, self.max_concurrency * 4),
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # Checksums on every request (botocore >= 1.36 default) break S3-compatible
            # servers that predate them (Ceph RGW 16); send them only where S3 requires.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self.client: S3Client = session.client("s3", endpoint_url=endpoint_url, config=config)
        self._executor = ThreadPoolExecutor(
            max_workers=self.max_concurrency * 4, thread_name_prefix="s3files-part"
        )
        self._credentials_lock = threading.Lock()
        # botocore spends ~2 ms of CPU on each request: small objects skip it (not behind
        # a proxy, which only botocore knows how to use)
        self._fast_put: FastPut | None = None
        if not urllib.request.getproxies():
            self._fast_put = FastPut(
                self,
                pool_size=max(16, self.max_concurrency * 4),
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                max_attempts=max_attempts,
            )
        self._static_credentials = credentials
        self._origin, self._host, self._path_base = self._url_parts()

    def __repr__(self) -> str:
        where = self.endpoint_url or f"aws:{self.region}"
        return f"S3Store(bucket={self._bucket!r}, prefix={self.prefix!r}, endpoint={where!r})"

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def presign_is_local(self) -> bool:
        """True when signing needs no I/O: the credentials were given, not resolved (and
        refreshed, over the network) by botocore's chain (IAM role, credential_process)."""
        return self._static_credentials is not None

    def _full_key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _relative_key(self, full_key: str) -> str:
        return full_key[len(self.prefix) + 1 :] if self.prefix else full_key

    def _put_args(self, options: PutOptions) -> dict[str, Any]:
        args: dict[str, Any] = {"ContentType": options.content_type}
        if options.content_disposition:
            args["ContentDisposition"] = options.content_disposition
        if options.metadata:
            args["Metadata"] = dict(options.metadata)
        if options.tags:
            args["Tagging"] = urlencode(options.tags)
        if options.encryption:
            args["ServerSideEncryption"] = options.encryption
            if options.encryption == "aws:kms" and options.kms_key_id:
                args["SSEKMSKeyId"] = options.kms_key_id
        if options.storage_class:
            args["StorageClass"] = options.storage_class
        return args

    # URLs ---------------------------------------------------------------------------

    def _url_parts(self) -> tuple[str, str, str]:
        """(origin, host header, path before the key) for this bucket's URLs."""
        if self.endpoint_url:
            parts = urlsplit(self.endpoint_url)
            scheme, host, base = parts.scheme, parts.netloc, parts.path.rstrip("/")
        else:
            scheme, host, base = "https", f"s3.{self.region}.amazonaws.com", ""
        if self.addressing_style == "virtual":
            host = f"{self._bucket}.{host}"
            return f"{scheme}://{host}", host, f"{base}/"
        return f"{scheme}://{host}", host, f"{base}/{quote_key(self._bucket)}/"

    def public_url(self, key: str) -> str:
        """``https://{bucket}.s3.{region}.amazonaws.com/{key}`` on AWS; the endpoint's URL
        otherwise. Readable only if the bucket's policy makes the object public."""
        return f"{self._origin}{self._path_base}{quote_key(self._full_key(key))}"

    def _current_credentials(self) -> Credentials:
        if self._static_credentials is not None:
            return self._static_credentials
        with self._credentials_lock:
            resolved = self._session.get_credentials()
        if resolved is None:
            raise InvalidCredentialsError(
                "no S3 credentials found for presigning", bucket=self._bucket
            )
        frozen = resolved.get_frozen_credentials()
        return Credentials(frozen.access_key or "", frozen.secret_key or "", frozen.token)

    def presign(
        self,
        method: str,
        key: str,
        *,
        expires_in: int,
        content_type: str | None = None,
        response_headers: Mapping[str, str] | None = None,
    ) -> PresignedURL:
        now = datetime.now(UTC).replace(microsecond=0)
        query = {f"response-{name}": value for name, value in (response_headers or {}).items()}
        headers = {"content-type": content_type} if method == "PUT" and content_type else {}
        url = presign_url(
            method=method,
            origin=self._origin,
            path=f"{self._path_base}{quote_key(self._full_key(key))}",
            host=self._host,
            credentials=self._current_credentials(),
            region=self.region,
            expires_in=expires_in,
            now=now,
            query=query,
            headers=headers,
        )
        return PresignedURL(
            url=url,
            method=method,
            expires_at=now + timedelta(seconds=expires_in),
            headers={"Content-Type": content_type} if content_type and headers else {},
        )

    # Operations ---------------------------------------------------------------------

    def open_writer(self, key: str, options: PutOptions) -> _S3Writer:
        return _S3Writer(self, key, options)

    def head(self, key: str) -> ObjectInfo:
        with translate_s3_errors(self._bucket, key):
            response = self.client.head_object(Bucket=self._bucket, Key=self._full_key(key))
        return ObjectInfo(
            key=key,
            size=response["ContentLength"],
            etag=_etag(response.get("ETag")),
            last_modified=response.get("LastModified"),
            content_type=response.get("ContentType"),
            content_disposition=response.get("ContentDisposition"),
            metadata=decode_metadata(response.get("Metadata", {})),
            storage_class=response.get("StorageClass") or "STANDARD",
            encryption=response.get("ServerSideEncryption"),
            kms_key_id=response.get("SSEKMSKeyId"),
            bucket=self._bucket,
        )

    def iter_bytes(
        self,
        key: str,
        *,
        offset: int = 0,
        length: int | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> Iterator[bytes]:
        args: dict[str, Any] = {"Bucket": self._bucket, "Key": self._full_key(key)}
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            args["Range"] = f"bytes={offset}-{end}"
        with translate_s3_errors(self._bucket, key):
            response = self.client.get_object(**args)
        return self._stream(response["Body"], key, chunk_size)

    def _stream(self, body: Any, key: str, chunk_size: int) -> Iterator[bytes]:
        try:
            with translate_s3_errors(self._bucket, key):
                yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def get_tags(self, key: str) -> dict[str, str]:
        with translate_s3_errors(self._bucket, key):
            response = self.client.get_object_tagging(Bucket=self._bucket, Key=self._full_key(key))
        return {tag["Key"]: tag["Value"] for tag in response.get("TagSet", [])}

    def delete(self, key: str) -> None:
        with translate_s3_errors(self._bucket, key):
            self.client.delete_object(Bucket=self._bucket, Key=self._full_key(key))

    def copy(
        self, source_key: str, dest_key: str, *, metadata: Mapping[str, str] | None = None
    ) -> ObjectInfo:
        source = self.head(source_key)
        args: dict[str, Any] = {"ContentType": source.content_type or "application/octet-stream"}
        if source.content_disposition:
            args["ContentDisposition"] = source.content_disposition
        if source.storage_class and source.storage_class != "STANDARD":
            args["StorageClass"] = source.storage_class
        if source.encryption:
            args["ServerSideEncryption"] = source.encryption
            if source.kms_key_id:
                args["SSEKMSKeyId"] = source.kms_key_id
        if metadata is not None:
            args["Metadata"] = dict(metadata)
            args["MetadataDirective"] = "REPLACE"
        try:
            self._copy_on_server(source, dest_key, args, metadata)
        except StoreError as exc:
            cause = exc.__cause__
            if not isinstance(cause, botocore.exceptions.ClientError) or (
                cause.response.get("Error", {}).get("Code") != "NotImplemented"
            ):
                raise
            # Some servers cannot copy some objects on their side (Ceph RGW 16 refuses
            # encrypted ones): stream the bytes through instead, in bounded memory.
            self._copy_by_streaming(source, dest_key, metadata)
        return self.head(dest_key)

    def _copy_on_server(
        self,
        source: ObjectInfo,
        dest_key: str,
        args: dict[str, Any],
        metadata: Mapping[str, str] | None,
    ) -> None:
        copy_source: Any = {"Bucket": self._bucket, "Key": self._full_key(source.key)}
        with translate_s3_errors(self._bucket, dest_key):
            if source.size <= MAX_SINGLE_COPY:
                self.client.copy_object(
                    Bucket=self._bucket,
                    Key=self._full_key(dest_key),
                    CopySource=copy_source,
                    **args,
                )
                return
            args.pop("MetadataDirective", None)
            args["Metadata"] = (
                dict(metadata) if metadata is not None else self._raw_metadata(source.key)
            )
            self.client.copy(copy_source, self._bucket, self._full_key(dest_key), ExtraArgs=args)

    def _copy_by_streaming(
        self, source: ObjectInfo, dest_key: str, metadata: Mapping[str, str] | None
    ) -> None:
        encryption: Encryption | None = None
        if source.encryption in ("AES256", "aws:kms"):
            encryption = source.encryption  # type: ignore[assignment]
        options = PutOptions(
            content_type=source.content_type or "application/octet-stream",
            content_disposition=source.content_disposition,
            metadata=metadata if metadata is not None else self._raw_metadata(source.key),
            tags=self.get_tags(source.key),
            encryption=encryption,
            kms_key_id=source.kms_key_id,
            storage_class=source.storage_class if source.storage_class != "STANDARD" else None,
        )
        writer = self.open_writer(dest_key, options)
        try:
            for chunk in self.iter_bytes(source.key):
                writer.write(chunk)
            writer.commit()
        except BaseException:
            writer.abort()
            raise

    def _raw_metadata(self, key: str) -> dict[str, str]:
        with translate_s3_errors(self._bucket, key):
            response = self.client.head_object(Bucket=self._bucket, Key=self._full_key(key))
        return dict(response.get("Metadata", {}))

    def list_page(
        self, prefix: str = "", *, page_size: int = 1000, token: str | None = None
    ) -> ListPage:
        if page_size < 1:
            raise InvalidInputError("page_size must be at least 1", reason="invalid_page_size")
        args: dict[str, Any] = {
            "Bucket": self._bucket,
            "Prefix": self._full_key(prefix)
            if prefix
            else (f"{self.prefix}/" if self.prefix else ""),
            "MaxKeys": min(page_size, 1000),
        }
        if token:
            args["ContinuationToken"] = decode_token(token)
        with translate_s3_errors(self._bucket):
            response = self.client.list_objects_v2(**args)
        items = [
            ObjectInfo(
                key=self._relative_key(entry["Key"]),
                size=entry["Size"],
                etag=_etag(entry.get("ETag")),
                last_modified=entry.get("LastModified"),
                storage_class=entry.get("StorageClass") or "STANDARD",
                bucket=self._bucket,
            )
            for entry in response.get("Contents", [])
        ]
        marker = response.get("NextContinuationToken") if response.get("IsTruncated") else None
        next_token = encode_token(marker) if marker else None
        return ListPage(items=items, next_token=next_token, prefix=prefix)

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (for development and tests)."""
        with translate_s3_errors(self._bucket):
            try:
                self.client.head_bucket(Bucket=self._bucket)
            except botocore.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
                    raise
                kwargs: dict[str, Any] = {}
                if self.region != "us-east-1" and self.endpoint_url is None:
                    kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
                self.client.create_bucket(Bucket=self._bucket, **kwargs)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self._fast_put is not None:
            self._fast_put.close()
        self.client.close()
