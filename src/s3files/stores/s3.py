"""The S3 store: any S3-compatible server (AWS S3, Ceph RGW, MinIO, R2) through botocore.

Uploads stream through ``S3Writer`` (``s3_writer.py``): small objects are one PutObject,
larger ones a multipart upload with bounded buffers. Presigned URLs are signed by
``s3files.signing``, and small objects are put without botocore (``s3_http.FastPut``):
botocore's CPU per request, not the network, limits many small files. Direct uploads (POST
policies, multipart with presigned parts) are ``s3_direct.S3DirectUploads``, which the store
holds and whose methods it offers. Clients come from the one factory (``_s3_client.py``)
and every request is retried by the one ``RetryPolicy``.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from s3files._config import AddressingStyle, S3Config
from s3files._errors import InvalidInputError, StoreError
from s3files._models import (
    Encryption,
    ListPage,
    MultipartUploadInfo,
    ObjectInfo,
    PresignedPost,
    PresignedURL,
    PutOptions,
    UploadPart,
    decode_metadata,
)
from s3files._retry import RetryPolicy
from s3files.signing import Credentials, presign_url
from s3files.stores._s3_client import open_session, s3_client
from s3files.stores._s3_errors import MIN_PART_SIZE, error_code, strip_etag, translate_s3_errors
from s3files.stores._s3_location import CredentialSource, S3Location
from s3files.stores.base import DEFAULT_CHUNK_SIZE, ObjectWriter, decode_token, encode_token
from s3files.stores.s3_direct import S3DirectUploads
from s3files.stores.s3_http import FastPut
from s3files.stores.s3_writer import S3Uploader, S3Writer

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

__all__ = ["AddressingStyle", "S3Store", "translate_s3_errors"]

MAX_SINGLE_COPY = 5 * 1024**3


class S3Store:
    """One bucket (and optional key prefix) on an S3-compatible server. Thread-safe.

    >>> store = S3Store("my-bucket", region="eu-west-1")                      # AWS
    >>> store = S3Store("test", endpoint_url="http://127.0.0.1:7480",          # Ceph, MinIO
    ...                 credentials=Credentials("key", "secret"))
    >>> store = S3Store.from_config(Settings().s3_config())                  # the environment

    Every request is retried by ``retry`` (default ``RetryPolicy(max_attempts=max_attempts)``):
    throttling, 5xx answers and connection failures, with backoff and full jitter.
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
        retry: RetryPolicy | None = None,
    ) -> None:
        config = S3Config(
            bucket=bucket,
            prefix=prefix.strip("/"),
            region=region,
            endpoint_url=endpoint_url or None,
            addressing_style=addressing_style,
            access_key_id=credentials.access_key if credentials else None,
            secret_access_key=SecretStr(credentials.secret_key) if credentials else None,
            session_token=SecretStr(credentials.session_token)
            if credentials and credentials.session_token
            else None,
            profile=profile,
        )
        self._init(
            config,
            part_size=part_size,
            max_concurrency=max_concurrency,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retry=retry or RetryPolicy(max_attempts=max_attempts),
        )

    @classmethod
    def from_config(
        cls,
        config: S3Config,
        *,
        part_size: int = 8 * 1024 * 1024,
        max_concurrency: int = 4,
        connect_timeout: float = 10,
        read_timeout: float = 60,
        retry: RetryPolicy | None = None,
    ) -> S3Store:
        """The store of ``config`` (which must name a bucket)."""
        if not config.bucket:
            raise InvalidInputError("the S3 configuration names no bucket", reason="no_bucket")
        store = cls.__new__(cls)
        store._init(
            config,
            part_size=part_size,
            max_concurrency=max_concurrency,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retry=retry or RetryPolicy(),
        )
        return store

    def _init(
        self,
        config: S3Config,
        *,
        part_size: int,
        max_concurrency: int,
        connect_timeout: float,
        read_timeout: float,
        retry: RetryPolicy,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum)")
        assert config.bucket is not None
        self.config = config
        self._bucket = config.bucket
        self.prefix = config.prefix.strip("/")
        self.region = config.region or "us-east-1"
        self.endpoint_url = config.endpoint_url
        self.part_size = part_size
        self.max_concurrency = max(1, max_concurrency)
        self.retry = retry
        style = config.resolved_addressing_style()
        self.addressing_style: AddressingStyle = "virtual" if style == "virtual" else "path"
        session = open_session(config)
        pool = max(16, self.max_concurrency * 4)
        self.client: S3Client = s3_client(
            config.model_copy(update={"region": self.region}),
            session,
            retry=retry,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=pool,
        )
        self.location = S3Location.of(
            self._bucket,
            prefix=self.prefix,
            region=self.region,
            endpoint_url=self.endpoint_url,
            addressing_style=self.addressing_style,
        )
        self._credentials = CredentialSource(session, config.credentials())
        self.direct = S3DirectUploads(self.client, self.location, self._credentials)
        self._executor = ThreadPoolExecutor(
            max_workers=self.max_concurrency * 4, thread_name_prefix="s3files-part"
        )
        # botocore spends ~2 ms of CPU on each request: small objects skip it (not behind
        # a proxy, which only botocore knows how to use)
        self._fast_put: FastPut | None = None
        if not urllib.request.getproxies():
            self._fast_put = FastPut(
                self.location,
                self._credentials,
                retry=retry,
                pool_size=pool,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
            )
        self._uploader = S3Uploader(
            client=self.client,
            location=self.location,
            direct=self.direct,
            executor=self._executor,
            fast_put=self._fast_put,
            part_size=self.part_size,
            max_concurrency=self.max_concurrency,
        )

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
        return self._credentials.is_static

    def _full_key(self, key: str) -> str:
        return self.location.full_key(key)

    # URLs ---------------------------------------------------------------------------

    def public_url(self, key: str) -> str:
        """``https://{bucket}.s3.{region}.amazonaws.com/{key}`` on AWS; the endpoint's URL
        otherwise. Readable only if the bucket's policy makes the object public."""
        return f"{self.location.origin}{self.location.object_path(self._full_key(key))}"

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
            origin=self.location.origin,
            path=self.location.object_path(self._full_key(key)),
            host=self.location.host,
            credentials=self._credentials.current(self._bucket),
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

    def open_writer(self, key: str, options: PutOptions) -> ObjectWriter:
        return S3Writer(self._uploader, key, options)

    def head(self, key: str) -> ObjectInfo:
        with translate_s3_errors(self._bucket, key):
            response = self.client.head_object(Bucket=self._bucket, Key=self._full_key(key))
        return ObjectInfo(
            key=key,
            size=response["ContentLength"],
            etag=strip_etag(response.get("ETag")),
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
            if error_code(exc) != "NotImplemented":
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
            "Prefix": self.location.list_prefix(prefix),
            "MaxKeys": min(page_size, 1000),
        }
        if token:
            args["ContinuationToken"] = decode_token(token)
        with translate_s3_errors(self._bucket):
            response = self.client.list_objects_v2(**args)
        items = [
            ObjectInfo(
                key=self.location.relative_key(entry["Key"]),
                size=entry["Size"],
                etag=strip_etag(entry.get("ETag")),
                last_modified=entry.get("LastModified"),
                storage_class=entry.get("StorageClass") or "STANDARD",
                bucket=self._bucket,
            )
            for entry in response.get("Contents", [])
        ]
        marker = response.get("NextContinuationToken") if response.get("IsTruncated") else None
        next_token = encode_token(marker) if marker else None
        return ListPage(items=items, next_token=next_token, prefix=prefix)

    # Direct uploads (s3_direct.S3DirectUploads) ---------------------------------------

    def presign_post(
        self,
        key: str,
        *,
        content_type: str,
        max_size: int,
        expires_in: int,
        fields: Mapping[str, str] | None = None,
    ) -> PresignedPost:
        return self.direct.presign_post(
            key, content_type=content_type, max_size=max_size, expires_in=expires_in, fields=fields
        )

    def create_multipart(self, key: str, options: PutOptions) -> str:
        return self.direct.create_multipart(key, options)

    def presign_part(
        self, key: str, upload_id: str, number: int, *, expires_in: int
    ) -> PresignedURL:
        return self.direct.presign_part(key, upload_id, number, expires_in=expires_in)

    def list_parts(self, key: str, upload_id: str) -> list[UploadPart]:
        return self.direct.list_parts(key, upload_id)

    def complete_multipart(
        self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> str | None:
        return self.direct.complete_multipart(key, upload_id, parts)

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Discard the upload; an unknown one is already gone, other failures raise."""
        self.direct.abort_multipart(key, upload_id)

    def list_multipart_uploads(self, prefix: str = "") -> Iterator[MultipartUploadInfo]:
        return self.direct.list_multipart_uploads(prefix)

    def configure_cors(self, origins: Sequence[str], *, max_age: int = 3000) -> None:
        """Let browsers on ``origins`` GET, PUT and POST to the bucket (see S3DirectUploads)."""
        self.direct.configure_cors(origins, max_age=max_age)

    def get_cors(self) -> list[dict[str, Any]]:
        """The bucket's CORS rules ([] when none)."""
        return self.direct.get_cors()

    def configure_abort_incomplete(self, days: int) -> None:
        """A lifecycle rule that aborts multipart uploads left unfinished for ``days``."""
        self.direct.configure_abort_incomplete(days)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self._fast_put is not None:
            self._fast_put.close()
        self.client.close()
