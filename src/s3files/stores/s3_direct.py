"""Direct uploads on S3: POST policies and multipart uploads with presigned part URLs.

``S3DirectUploads`` holds what it needs (the client, the bucket's ``S3Location``, the
credentials); ``S3Store`` owns one and offers its methods
(``stores.direct_uploads.DirectUploadStore``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from s3files._errors import S3FilesError
from s3files._models import MultipartUploadInfo, PresignedPost, PresignedURL, PutOptions, UploadPart
from s3files.signing import presign_post_policy, presign_url
from s3files.stores._s3_errors import error_code, put_args, strip_etag, translate_s3_errors
from s3files.stores._s3_location import CredentialSource, S3Location

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

__all__ = ["S3DirectUploads"]

_logger = logging.getLogger("s3files")


class S3DirectUploads:
    """POST policies and multipart uploads on one bucket; see ``DirectUploadStore``."""

    def __init__(
        self, client: S3Client, location: S3Location, credentials: CredentialSource
    ) -> None:
        self.client = client
        self.location = location
        self._credentials = credentials

    @property
    def bucket(self) -> str:
        return self.location.bucket

    def presign_post(
        self,
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
            key=self.location.full_key(key),
            credentials=self._credentials.current(self.bucket),
            region=self.location.region,
            expires_in=expires_in,
            conditions=[["content-length-range", 1, max_size]],
            fields={"Content-Type": content_type, **extra},
            now=now,
        )
        return PresignedPost(
            url=self.location.bucket_url(),
            fields=fields,
            expires_at=now + timedelta(seconds=expires_in),
            max_size=max_size,
        )

    def create_multipart(self, key: str, options: PutOptions) -> str:
        with translate_s3_errors(self.bucket, key):
            created = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.location.full_key(key), **put_args(options)
            )
        return created["UploadId"]

    def presign_part(
        self, key: str, upload_id: str, number: int, *, expires_in: int
    ) -> PresignedURL:
        now = datetime.now(UTC).replace(microsecond=0)
        url = presign_url(
            method="PUT",
            origin=self.location.origin,
            path=self.location.object_path(self.location.full_key(key)),
            host=self.location.host,
            credentials=self._credentials.current(self.bucket),
            region=self.location.region,
            expires_in=expires_in,
            now=now,
            query={"partNumber": str(number), "uploadId": upload_id},
        )
        return PresignedURL(url=url, method="PUT", expires_at=now + timedelta(seconds=expires_in))

    def list_parts(self, key: str, upload_id: str) -> list[UploadPart]:
        parts: list[UploadPart] = []
        marker = 0
        with translate_s3_errors(self.bucket, key):
            while True:
                response = self.client.list_parts(
                    Bucket=self.bucket,
                    Key=self.location.full_key(key),
                    UploadId=upload_id,
                    PartNumberMarker=marker,
                )
                parts += [
                    UploadPart(
                        number=p["PartNumber"], etag=strip_etag(p["ETag"]) or "", size=p["Size"]
                    )
                    for p in response.get("Parts", [])
                ]
                if not response.get("IsTruncated"):
                    return parts
                marker = int(response.get("NextPartNumberMarker", 0))

    def complete_multipart(
        self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> str | None:
        return self.finish(key, upload_id, parts)

    def finish(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> str | None:
        """CompleteMultipartUpload of the parts (number, etag); the object's ETag."""
        full_key = self.location.full_key(key)
        listed: Any = [
            {"PartNumber": number, "ETag": f'"{strip_etag(etag)}"'}
            for number, etag in sorted(parts)
        ]
        with translate_s3_errors(self.bucket, key):
            completed = self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=full_key,
                UploadId=upload_id,
                MultipartUpload={"Parts": listed},
            )
            etag = strip_etag(completed.get("ETag"))
            if not etag:  # Ceph RGW 16 leaves the ETag of CompleteMultipartUpload empty
                head = self.client.head_object(Bucket=self.bucket, Key=full_key)
                etag = strip_etag(head.get("ETag"))
        return etag

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Discard the upload and its parts. An unknown upload (``NoSuchUpload``: never
        started, completed, or aborted already, by us or by a lifecycle rule) is already
        gone and not an error; any other failure (refused, store down) raises the typed
        ``StoreError``, since the parts would stay stored."""
        if not upload_id:  # names no upload; sent, it would be a request for the object
            return
        try:
            with translate_s3_errors(self.bucket, key):
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=self.location.full_key(key), UploadId=upload_id
                )
        except S3FilesError as exc:  # NoSuchUpload is an InvalidInputError elsewhere
            if error_code(exc) != "NoSuchUpload":
                raise
            _logger.debug("multipart upload %s of %r was already gone", upload_id, key)

    def list_multipart_uploads(self, prefix: str = "") -> Iterator[MultipartUploadInfo]:
        args: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.location.list_prefix(prefix)}
        while True:
            with translate_s3_errors(self.bucket):
                response = self.client.list_multipart_uploads(**args)
            for upload in response.get("Uploads", []):
                yield MultipartUploadInfo(
                    key=self.location.relative_key(upload["Key"]),
                    upload_id=upload["UploadId"],
                    initiated=upload.get("Initiated"),
                )
            if not response.get("IsTruncated"):
                return
            args["KeyMarker"] = response.get("NextKeyMarker")
            args["UploadIdMarker"] = response.get("NextUploadIdMarker")

    # Bucket set-up for browser uploads ------------------------------------------------

    def configure_cors(self, origins: Sequence[str], *, max_age: int = 3000) -> None:
        """Let browsers on ``origins`` GET, PUT and POST to the bucket and read ETags (which
        multipart uploads need). Replaces the bucket's CORS rules."""
        rule: Any = {
            "AllowedOrigins": list(origins),
            "AllowedMethods": ["GET", "PUT", "POST", "HEAD"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": max_age,
        }
        with translate_s3_errors(self.bucket):
            self.client.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": [rule]})

    def get_cors(self) -> list[dict[str, Any]]:
        """The bucket's CORS rules ([] when none)."""
        with translate_s3_errors(self.bucket):
            try:
                response: Any = self.client.get_bucket_cors(Bucket=self.bucket)
            except botocore.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "NoSuchCORSConfiguration":
                    return []
                raise
        rules: list[dict[str, Any]] = response.get("CORSRules", [])
        return rules

    def configure_abort_incomplete(self, days: int) -> None:
        """A lifecycle rule that aborts multipart uploads left unfinished for ``days``."""
        rule: Any = {
            "ID": "s3files-abort-incomplete-multipart",
            "Status": "Enabled",
            "Filter": {"Prefix": self.location.list_prefix()},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days},
        }
        with translate_s3_errors(self.bucket):
            self.client.put_bucket_lifecycle_configuration(
                Bucket=self.bucket, LifecycleConfiguration={"Rules": [rule]}
            )
