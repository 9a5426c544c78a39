"""Direct uploads on S3: POST policies and multipart uploads with presigned part URLs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from s3files._errors import StoreError
from s3files._models import MultipartUploadInfo, PresignedPost, PresignedURL, PutOptions, UploadPart
from s3files.signing import presign_post_policy, presign_url, quote_key

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

    from s3files.signing import Credentials

__all__ = ["S3DirectUploads"]


class _S3Base(Protocol):
    """What the mixin uses of ``S3Store``."""

    @property
    def client(self) -> S3Client: ...

    @property
    def region(self) -> str: ...

    @property
    def prefix(self) -> str: ...

    @property
    def addressing_style(self) -> str: ...

    @property
    def _origin(self) -> str: ...

    @property
    def _host(self) -> str: ...

    @property
    def _path_base(self) -> str: ...

    @property
    def bucket(self) -> str: ...

    def _full_key(self, key: str) -> str: ...

    def _relative_key(self, full_key: str) -> str: ...

    def _current_credentials(self) -> Credentials: ...

    def _put_args(self, options: PutOptions) -> dict[str, Any]: ...

    def _finish_multipart(
        self, full_key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> str | None: ...


def _etag(value: str | None) -> str | None:
    return value.strip('"') if value else value


class S3DirectUploads:
    """Mixed into ``S3Store``; see ``stores.direct.DirectUploadStore``."""

    def presign_post(
        self: _S3Base,
        key: str,
        *,
        content_type: str,
        max_size: int,
        expires_in: int,
        fields: Mapping[str, str] | None = None,
    ) -> PresignedPost:
        now = datetime.now(UTC).replace(microsecond=0)
        extra = dict(fields or {})
        fields = presign_post_policy(
            bucket=self.bucket,
            key=self._full_key(key),
            credentials=self._current_credentials(),
            region=self.region,
            expires_in=expires_in,
            conditions=[["content-length-range", 1, max_size]],
            fields={"Content-Type": content_type, **extra},
            now=now,
        )
        url = f"{self._origin}{self._path_base}".rstrip("/")
        if self.addressing_style == "virtual":
            url += "/"
        return PresignedPost(
            url=url,
            fields=fields,
            expires_at=now + timedelta(seconds=expires_in),
            max_size=max_size,
        )

    def create_multipart(self: _S3Base, key: str, options: PutOptions) -> str:
        from s3files.stores.s3 import translate_s3_errors

        with translate_s3_errors(self.bucket, key):
            created = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self._full_key(key), **self._put_args(options)
            )
        return created["UploadId"]

    def presign_part(
        self: _S3Base, key: str, upload_id: str, number: int, *, expires_in: int
    ) -> PresignedURL:
        now = datetime.now(UTC).replace(microsecond=0)
        url = presign_url(
            method="PUT",
            origin=self._origin,
            path=f"{self._path_base}{quote_key(self._full_key(key))}",
            host=self._host,
            credentials=self._current_credentials(),
            region=self.region,
            expires_in=expires_in,
            now=now,
            query={"partNumber": str(number), "uploadId": upload_id},
        )
        return PresignedURL(url=url, method="PUT", expires_at=now + timedelta(seconds=expires_in))

    def list_parts(self: _S3Base, key: str, upload_id: str) -> list[UploadPart]:
        from s3files.stores.s3 import translate_s3_errors

        parts: list[UploadPart] = []
        marker = 0
        with translate_s3_errors(self.bucket, key):
            while True:
                response = self.client.list_parts(
                    Bucket=self.bucket,
                    Key=self._full_key(key),
                    UploadId=upload_id,
                    PartNumberMarker=marker,
                )
                parts += [
                    UploadPart(number=p["PartNumber"], etag=_etag(p["ETag"]) or "", size=p["Size"])
                    for p in response.get("Parts", [])
                ]
                if not response.get("IsTruncated"):
                    return parts
                marker = int(response.get("NextPartNumberMarker", 0))

    def complete_multipart(
        self: _S3Base, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> str | None:
        from s3files.stores.s3 import translate_s3_errors

        with translate_s3_errors(self.bucket, key):
            return self._finish_multipart(self._full_key(key), upload_id, parts)

    def _finish_multipart(
        self: _S3Base, full_key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> str | None:
        """CompleteMultipartUpload; raises botocore errors (callers translate them)."""
        listed: Any = [
            {"PartNumber": number, "ETag": f'"{etag.strip(chr(34))}"'}
            for number, etag in sorted(parts)
        ]
        completed = self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=full_key, UploadId=upload_id, MultipartUpload={"Parts": listed}
        )
        etag = _etag(completed.get("ETag"))
        if not etag:  # Ceph RGW 16 leaves the ETag of CompleteMultipartUpload empty
            etag = _etag(self.client.head_object(Bucket=self.bucket, Key=full_key).get("ETag"))
        return etag

    def abort_multipart(self: _S3Base, key: str, upload_id: str) -> None:
        from s3files.stores.s3 import translate_s3_errors

        with contextlib.suppress(StoreError), translate_s3_errors(self.bucket, key):
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self._full_key(key), UploadId=upload_id
            )

    def list_multipart_uploads(self: _S3Base, prefix: str = "") -> Iterator[MultipartUploadInfo]:
        from s3files.stores.s3 import translate_s3_errors

        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Prefix": self._full_key(prefix)
            if prefix
            else (f"{self.prefix}/" if self.prefix else ""),
        }
        while True:
            with translate_s3_errors(self.bucket):
                response = self.client.list_multipart_uploads(**args)
            for upload in response.get("Uploads", []):
                yield MultipartUploadInfo(
                    key=self._relative_key(upload["Key"]),
                    upload_id=upload["UploadId"],
                    initiated=upload.get("Initiated"),
                )
            if not response.get("IsTruncated"):
                return
            args["KeyMarker"] = response.get("NextKeyMarker")
            args["UploadIdMarker"] = response.get("NextUploadIdMarker")

    # Bucket set-up for browser uploads ------------------------------------------------

    def configure_cors(self: _S3Base, origins: Sequence[str], *, max_age: int = 3000) -> None:
        """Let browsers on ``origins`` GET, PUT and POST to the bucket and read ETags (which
        multipart uploads need). Replaces the bucket's CORS rules."""
        from s3files.stores.s3 import translate_s3_errors

        rule: Any = {
            "AllowedOrigins": list(origins),
            "AllowedMethods": ["GET", "PUT", "POST", "HEAD"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": max_age,
        }
        with translate_s3_errors(self.bucket):
            self.client.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": [rule]})

    def get_cors(self: _S3Base) -> list[dict[str, Any]]:
        """The bucket's CORS rules ([] when none)."""
        import botocore.exceptions

        from s3files.stores.s3 import translate_s3_errors

        with translate_s3_errors(self.bucket):
            try:
                response: Any = self.client.get_bucket_cors(Bucket=self.bucket)
            except botocore.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "NoSuchCORSConfiguration":
                    return []
                raise
        rules: list[dict[str, Any]] = response.get("CORSRules", [])
        return rules

    def configure_abort_incomplete(self: _S3Base, days: int) -> None:
        """A lifecycle rule that aborts multipart uploads left unfinished for ``days``."""
        from s3files.stores.s3 import translate_s3_errors

        rule: Any = {
            "ID": "s3files-abort-incomplete-multipart",
            "Status": "Enabled",
            "Filter": {"Prefix": f"{self.prefix}/" if self.prefix else ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days},
        }
        with translate_s3_errors(self.bucket):
            self.client.put_bucket_lifecycle_configuration(
                Bucket=self.bucket, LifecycleConfiguration={"Rules": [rule]}
            )
