"""Brief 003's S3Client against Ceph RGW."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from s3files.contrib.django.s3 import S3Client
from tests import samples


def test_upload_file_private_and_public(
    tmp_path: Path, prefix: str, boto_client: Any, django_bucket: str
) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(samples.pdf())
    client = S3Client()
    result = client.upload_file(file_path=str(path), object_key=f"{prefix}/report.pdf")
    assert result["success"] is True, result
    assert result["key"] == f"{prefix}/report.pdf" and result["size"] == len(samples.pdf())
    assert result["content_type"] == "application/pdf"
    assert httpx.get(result["url"]).content == samples.pdf()  # presigned
    stored = boto_client.get_object(Bucket=django_bucket, Key=f"{prefix}/report.pdf")
    assert stored["ContentType"] == "application/pdf"

    public = client.upload_file(path, f"{prefix}/public.pdf", public=True)
    assert public["success"] is True
    assert public["url"].endswith(f"/{django_bucket}/{prefix}/public.pdf")
    assert "X-Amz-Signature" not in public["url"]


def test_upload_file_validates_like_every_upload(tmp_path: Path, prefix: str) -> None:
    client = S3Client()
    fake = tmp_path / "photo.png"
    fake.write_bytes(samples.html())
    refused = client.upload_file(fake, f"{prefix}/photo.png")
    assert refused["success"] is False and refused["code"] == "unsupported_file_type"
    missing = client.upload_file(tmp_path / "nope.txt", f"{prefix}/nope.txt")
    assert missing["success"] is False and missing["code"] == "unreadable"
    assert "nope.txt" in missing["error"]
    text = tmp_path / "a.txt"
    text.write_bytes(samples.text())
    bad_key = client.upload_file(text, "../escape.txt")
    assert bad_key["success"] is False and bad_key["code"] == "invalid_key"
    assert client.list_objects(prefix=f"{prefix}/")["count"] == 0


def test_list_objects(tmp_path: Path, prefix: str) -> None:
    client = S3Client()
    path = tmp_path / "a.txt"
    path.write_bytes(samples.text(50))
    for index in range(3):
        assert client.upload_file(path, f"{prefix}/list/{index}.txt")["success"]
    client.upload_file(path, f"{prefix}/other/x.txt")
    listed = client.list_objects(prefix=f"{prefix}/list/", max_keys=100)
    assert listed["success"] is True and listed["count"] == 3
    assert [o["key"] for o in listed["objects"]] == [f"{prefix}/list/{i}.txt" for i in range(3)]
    assert listed["objects"][0]["size"] == 50 and listed["objects"][0]["last_modified"]
    assert listed["is_truncated"] is False
    page = client.list_objects(prefix=f"{prefix}/", max_keys=2)
    assert page["count"] == 2 and page["is_truncated"] is True
    assert client.list_objects(prefix=prefix, max_keys=0)["code"] == "invalid_input"


def test_delete_object(tmp_path: Path, prefix: str) -> None:
    client = S3Client()
    path = tmp_path / "a.txt"
    path.write_bytes(samples.text())
    client.upload_file(path, f"{prefix}/gone.txt")
    assert client.delete_object(object_key=f"{prefix}/gone.txt") == {
        "success": True,
        "key": f"{prefix}/gone.txt",
    }
    assert client.list_objects(prefix=f"{prefix}/")["count"] == 0
    assert client.delete_object(f"{prefix}/gone.txt")["success"] is True  # already gone
    assert client.delete_object("/abs")["code"] == "invalid_key"


def test_store_errors_are_results(settings: Any, prefix: str) -> None:
    settings.AWS_S3_BUCKET_NAME = "no-such-bucket-s3files"
    result = S3Client().list_objects(prefix=prefix)
    assert result["success"] is False and result["code"] == "bucket_not_found"
