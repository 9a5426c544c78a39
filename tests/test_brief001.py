"""Brief 001: S3Service(settings).upload(FileUploadRequest(...)) returns the public URL."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest
from pydantic import ValidationError

from s3files import (
    ConfigurationError,
    FileUploadRequest,
    S3Service,
    Settings,
    UnsupportedFileTypeError,
)
from tests import samples
from tests.harness.ceph import S3Server

UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


@dataclass
class AppSettings:
    """An application's own settings class, as in the brief."""

    aws_access_key_id: str
    aws_secret_access_key: str
    aws_region: str
    s3_bucket: str
    s3_endpoint_url: str


def test_upload_returns_public_url(s3_server: S3Server, session_bucket: str, boto_client) -> None:  # type: ignore[no-untyped-def]
    settings = AppSettings(
        s3_server.access_key,
        s3_server.secret_key,
        s3_server.region,
        session_bucket,
        s3_server.endpoint_url,
    )
    s3_service = S3Service(settings)
    upload_request = FileUploadRequest(
        filename="example.jpg", content_type="image/jpeg", content=samples.jpeg()
    )
    public_url = s3_service.upload(upload_request)
    match = re.fullmatch(
        rf"{re.escape(s3_server.endpoint_url)}/{session_bucket}/(uploads/{UUID4}\.jpg)", public_url
    )
    assert match, public_url
    body = boto_client.get_object(Bucket=session_bucket, Key=match.group(1))["Body"].read()
    assert body == samples.jpeg()
    presigned = s3_service.presigned_url(match.group(1), expires_in=60)
    assert httpx.get(presigned).content == samples.jpeg()


def test_with_s3files_settings(s3_server: S3Server, session_bucket: str) -> None:
    settings = Settings(
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key=s3_server.secret_key,
        s3_bucket=session_bucket,
        s3_endpoint_url=s3_server.endpoint_url,
        s3_allowed_extensions="png",
    )
    service = S3Service(settings)
    stored = service.upload_file(
        FileUploadRequest(filename="p.PNG", content_type="image/png", content=samples.png())
    )
    assert re.fullmatch(rf"uploads/{UUID4}\.png", stored.key)
    with pytest.raises(UnsupportedFileTypeError, match="not allowed") as caught:
        service.upload(
            FileUploadRequest(filename="x.jpg", content_type="image/jpeg", content=samples.jpeg())
        )
    assert caught.value.reason == "extension_not_allowed"


def test_aws_url_format_without_network() -> None:
    service = S3Service(AppSettings("AKIAEXAMPLE", "secret", "eu-central-1", "my-bucket", ""))
    assert service.files.public_url("uploads/x.jpg") == (
        "https://my-bucket.s3.eu-central-1.amazonaws.com/uploads/x.jpg"
    )


def test_request_validation() -> None:
    with pytest.raises(ValidationError):
        FileUploadRequest(filename="", content_type="image/png", content=b"x")
    with pytest.raises(ConfigurationError, match="S3_BUCKET_NAME"):
        S3Service(AppSettings("a", "b", "us-east-1", "", ""))
