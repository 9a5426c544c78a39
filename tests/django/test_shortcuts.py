"""Brief 003's shortcuts against Ceph RGW: the happy path and every failure path."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from s3files.contrib.django.models import Upload
from s3files.contrib.django.shortcuts import (
    complete_upload,
    delete_upload,
    get_direct_upload_form_data,
    get_upload_file_url,
)
from tests import samples
from tests.django.uploading import policy_of, post_form

pytestmark = pytest.mark.django_db
MiB = 1024 * 1024


def exists(boto_client: Any, bucket: str, key: str) -> bool:
    return bool(boto_client.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"))


def signed(prefix: str, name: str = "photo.png", ctype: str = "image/png", **kw: Any) -> dict:
    result = get_direct_upload_form_data(name, ctype, kw.pop("max_file_size", MiB), prefix, **kw)
    assert result["success"], result
    return result


def uploaded(prefix: str, body: bytes, name: str = "photo.png", ctype: str = "image/png") -> dict:
    result = signed(prefix, name, ctype)
    response = post_form(result, body, filename=name, content_type=ctype)
    assert response.status_code == 204, response.text
    return result


# get_direct_upload_form_data ----------------------------------------------------------


def test_form_data_has_brief_003s_shape_and_a_pending_row(prefix: str, django_bucket: str) -> None:
    result = signed(prefix, "Holiday Photo.PNG", "image/png")
    assert set(result) >= {"success", "form_url", "form_fields", "upload_id"}
    assert result["form_url"].endswith(f"/{django_bucket}")
    fields = result["form_fields"]
    assert fields["Content-Type"] == "image/png"
    upload = Upload.objects.get(pk=result["upload_id"])
    # the form writes to a staging key of its own; only completion makes the file at "key"
    assert fields["key"] == upload.staging_key == f".uploads/{uuid.UUID(result['upload_id']).hex}"
    # <prefix>/<uuid>.<ext>: never the raw filename
    folder, name = result["key"].rsplit("/", 1)
    assert folder == prefix and uuid.UUID(name.removesuffix(".png")) and name.endswith(".png")
    assert upload.status == Upload.STATUS_PENDING
    assert upload.original_filename == "Holiday Photo.PNG"
    assert upload.key == result["key"] and upload.bucket == django_bucket
    assert upload.max_size == MiB and upload.size is None and upload.owner is None
    conditions = policy_of(result)["conditions"]
    assert ["content-length-range", 1, MiB] in conditions
    assert {"key": upload.staging_key} in conditions
    assert {"key": result["key"]} not in conditions


def test_max_file_size_is_capped_by_the_setting(prefix: str, settings: Any) -> None:
    settings.S3FILES_MAX_UPLOAD_SIZE = 2048
    result = signed(prefix, max_file_size=10 * 1024**3)
    assert result["max_file_size"] == 2048
    assert ["content-length-range", 1, 2048] in policy_of(result)["conditions"]
    assert signed(prefix, max_file_size=None)["max_file_size"] == 2048


def test_hostile_names_and_prefixes_become_safe_keys(prefix: str) -> None:
    result = signed(f"{prefix}/a b/\u202eevil", "../../etc/\u0000pass.png")
    assert result["key"].startswith(f"{prefix}/a b/evil/")
    assert ".." not in result["key"] and "\u202e" not in result["key"]
    # the display name follows the rule of every upload: kept, minus what deceives
    named = signed(prefix, "🎉 plan —\u202e final\u200b.png")
    assert Upload.objects.get(pk=named["upload_id"]).original_filename == "🎉 plan — final.png"


@pytest.mark.parametrize(
    ("name", "ctype", "code"),
    [
        ("run.exe", "application/octet-stream", "unsupported_file_type"),
        ("page.png", "text/html", "unsupported_file_type"),
        ("...", "image/png", "invalid_filename"),
    ],
)
def test_refused_requests_sign_nothing(prefix: str, name: str, ctype: str, code: str) -> None:
    result = get_direct_upload_form_data(name, ctype, MiB, prefix)
    assert result["success"] is False and result["code"] == code and result["error"]
    assert not Upload.objects.exists()


def test_bad_prefix_and_size_are_refused(prefix: str) -> None:
    assert get_direct_upload_form_data("a.png", "image/png", MiB, "a/../b")["code"] == "invalid_key"
    assert get_direct_upload_form_data("a.png", "image/png", 0, prefix)["code"] == "invalid_input"
    assert not Upload.objects.exists()


def test_owner_is_recorded_and_restricts_lookups(prefix: str) -> None:
    user = get_user_model().objects.create_user("alice")
    other = get_user_model().objects.create_user("bob")
    result = signed(prefix, owner=user)
    upload = Upload.objects.get(pk=result["upload_id"])
    assert upload.owner == user
    assert complete_upload(result["upload_id"], owner=other)["code"] == "not_found"
    assert complete_upload(result["upload_id"], owner=AnonymousUser())["code"] == "not_found"
    assert delete_upload(result["upload_id"], owner=other)["code"] == "not_found"
    assert complete_upload(result["upload_id"], owner=user)["code"] == "not_uploaded"
    anonymous = signed(prefix, owner=AnonymousUser())
    assert Upload.objects.get(pk=anonymous["upload_id"]).owner is None


def test_misconfiguration_is_a_failure_result(prefix: str, settings: Any) -> None:
    settings.AWS_S3_BUCKET_NAME = ""
    result = get_direct_upload_form_data("a.png", "image/png", MiB, prefix)
    assert result == {
        "success": False,
        "error": "set AWS_S3_BUCKET_NAME (or AWS_STORAGE_BUCKET_NAME)",
        "code": "configuration_error",
    }


# complete_upload --------------------------------------------------------------------


def test_complete_after_a_real_post(prefix: str, boto_client: Any, django_bucket: str) -> None:
    body = samples.png() + b"\0" * 5000
    result = uploaded(prefix, body)
    done = complete_upload(result["upload_id"], status=Upload.STATUS_COMPLETE)
    assert done == {
        "success": True,
        "upload_id": result["upload_id"],
        "status": Upload.STATUS_COMPLETE,
        "key": result["key"],
        "name": "photo.png",
        "content_type": "image/png",
        "size": len(body),
    }
    upload = Upload.objects.get(pk=result["upload_id"])
    assert upload.status == Upload.STATUS_COMPLETE and upload.is_complete
    assert upload.size == len(body) and upload.completed_at is not None
    assert upload.sha256 == hashlib.sha256(body).hexdigest() and upload.etag
    stored = boto_client.get_object(Bucket=django_bucket, Key=result["key"])
    assert stored["Body"].read() == body and stored["ContentType"] == "image/png"
    assert not exists(boto_client, django_bucket, result["form_fields"]["key"])  # unstaged
    # completing again is harmless
    assert complete_upload(result["upload_id"]) == done
    assert complete_upload(result["upload_id"], status=Upload.STATUS_ABORTED)["code"] == (
        "upload_closed"
    )


def test_replaying_the_form_after_completion_changes_nothing(
    prefix: str, boto_client: Any, django_bucket: str
) -> None:
    body = samples.png() + b"\0" * 100
    result = uploaded(prefix, body)
    assert complete_upload(result["upload_id"])["success"] is True
    replay = post_form(result, samples.elf(), filename="photo.png", content_type="image/png")
    assert replay.status_code == 204, replay.text  # the policy is still valid ...
    stored = boto_client.get_object(Bucket=django_bucket, Key=result["key"])
    assert stored["Body"].read() == body  # ... but it cannot reach the file
    assert complete_upload(result["upload_id"])["success"] is True
    assert boto_client.get_object(Bucket=django_bucket, Key=result["key"])["Body"].read() == body
    link = get_upload_file_url(result["upload_id"])
    assert httpx.get(link["url"]).content == body


def test_completion_before_the_file_arrives_keeps_it_pending(prefix: str) -> None:
    result = signed(prefix)
    done = complete_upload(result["upload_id"])
    assert done["success"] is False and done["code"] == "not_uploaded"
    assert done["status"] == Upload.STATUS_PENDING
    assert Upload.objects.get(pk=result["upload_id"]).status == Upload.STATUS_PENDING


def test_expired_form_is_refused_by_the_store(prefix: str, settings: Any) -> None:
    settings.S3FILES_UPLOAD_EXPIRY = 1
    settings.S3FILES_EXPIRY_GRACE = 0
    result = signed(prefix)
    time.sleep(2.5)
    response = post_form(result, samples.png(), filename="photo.png", content_type="image/png")
    assert response.status_code == 403, response.text
    assert "AccessDenied" in response.text
    done = complete_upload(result["upload_id"])
    assert done["success"] is False and done["code"] == "expired"
    upload = Upload.objects.get(pk=result["upload_id"])
    assert upload.status == Upload.STATUS_EXPIRED and "expired" in upload.error


def test_oversize_body_is_refused_by_the_store(
    prefix: str, boto_client: Any, django_bucket: str
) -> None:
    result = signed(prefix, max_file_size=4096)
    body = samples.png() + b"\0" * 8192
    response = post_form(result, body, filename="photo.png", content_type="image/png")
    assert response.status_code == 400 and "EntityTooLarge" in response.text
    assert not exists(boto_client, django_bucket, result["key"])
    assert not exists(boto_client, django_bucket, result["form_fields"]["key"])
    done = complete_upload(result["upload_id"])
    assert done["code"] == "not_uploaded" and done["status"] == Upload.STATUS_PENDING


def test_other_content_type_is_refused_by_the_store(prefix: str) -> None:
    result = signed(prefix)
    fields = dict(result["form_fields"], **{"Content-Type": "text/html"})
    response = httpx.post(
        result["form_url"], data=fields, files={"file": ("x.png", samples.png(), "text/html")}
    )
    assert response.status_code == 403, response.text


def test_spoofed_type_fails_at_completion_and_is_deleted(
    prefix: str, boto_client: Any, django_bucket: str
) -> None:
    result = uploaded(prefix, samples.pdf(), "photo.png", "image/png")  # a PDF dressed as PNG
    assert exists(boto_client, django_bucket, result["form_fields"]["key"])  # staged
    done = complete_upload(result["upload_id"])
    assert done["success"] is False and done["code"] == "unsupported_file_type"
    assert "does not match" in done["error"] and done["status"] == Upload.STATUS_REJECTED
    assert not exists(boto_client, django_bucket, result["key"])
    assert not exists(boto_client, django_bucket, result["form_fields"]["key"])
    upload = Upload.objects.get(pk=result["upload_id"])
    assert upload.status == Upload.STATUS_REJECTED and "does not match" in upload.error
    again = complete_upload(result["upload_id"])
    assert again["code"] == "upload_rejected" and "does not match" in again["error"]


def test_a_file_over_the_limit_that_got_in_fails_at_completion(
    prefix: str, boto_client: Any, django_bucket: str
) -> None:
    """Should a store ignore the policy's size range, verification still counts the bytes."""
    result = signed(prefix, max_file_size=1000)
    staged = result["form_fields"]["key"]
    boto_client.put_object(Bucket=django_bucket, Key=staged, Body=samples.png() + b"\0" * 2000)
    done = complete_upload(result["upload_id"])
    assert done["code"] == "file_too_large" and done["status"] == Upload.STATUS_REJECTED
    assert not exists(boto_client, django_bucket, result["key"])
    assert not exists(boto_client, django_bucket, staged)


def test_client_reported_failure_removes_the_object(
    prefix: str, boto_client: Any, django_bucket: str
) -> None:
    result = uploaded(prefix, samples.png())
    done = complete_upload(result["upload_id"], status=Upload.STATUS_ABORTED)
    assert done["success"] is True and done["status"] == Upload.STATUS_ABORTED
    assert not exists(boto_client, django_bucket, result["key"])
    assert not exists(boto_client, django_bucket, result["form_fields"]["key"])
    assert Upload.objects.get(pk=result["upload_id"]).status == Upload.STATUS_ABORTED


def test_status_must_be_complete_or_aborted(prefix: str) -> None:
    result = signed(prefix)
    for status in (Upload.STATUS_PENDING, Upload.STATUS_REJECTED, "failed", "done", ""):
        assert complete_upload(result["upload_id"], status=status)["code"] == "invalid_status"


@pytest.mark.parametrize("upload_id", [str(uuid.uuid4()), uuid.uuid4(), "not-a-uuid", None, 42])
def test_unknown_upload_id(upload_id: Any) -> None:
    for result in (
        complete_upload(upload_id),
        get_upload_file_url(upload_id),
        delete_upload(upload_id),
    ):
        assert result == {"success": False, "error": "upload not found", "code": "not_found"}


# get_upload_file_url -------------------------------------------------------------------


def test_presigned_url_serves_the_file(prefix: str) -> None:
    body = samples.png() + b"\1" * 1000
    result = uploaded(prefix, body, "Ünïcode photo.png", "image/png")
    complete_upload(result["upload_id"])
    link = get_upload_file_url(result["upload_id"], presigned=True, expiration=60)
    assert link["success"] is True
    assert link["content_type"] == "image/png" and link["name"] == "Ünïcode photo.png"
    assert link["size"] == len(body) and link["expires_at"]
    response = httpx.get(link["url"])
    assert response.status_code == 200 and response.content == body
    assert response.headers["content-type"] == "image/png"
    assert (
        "filename*=UTF-8''%C3%9Cn%C3%AFcode%20photo.png" in response.headers["content-disposition"]
    )
    assert (
        httpx.get(link["url"].replace("X-Amz-Signature=", "X-Amz-Signature=0")).status_code == 403
    )


def test_public_url_needs_a_bucket_policy(prefix: str, django_bucket: str) -> None:
    result = uploaded(prefix, samples.png())
    complete_upload(result["upload_id"])
    link = get_upload_file_url(result["upload_id"], presigned=False)
    assert link["success"] is True and link["expires_at"] is None
    assert link["url"].endswith(f"/{django_bucket}/{result['key']}")
    assert "X-Amz-Signature" not in link["url"]
    assert httpx.get(link["url"]).status_code == 403  # private bucket: brief 003's policy opens it


def test_url_of_an_unfinished_upload_is_refused(prefix: str) -> None:
    result = signed(prefix)
    link = get_upload_file_url(result["upload_id"])
    assert link["success"] is False and link["code"] == "not_complete"
    assert link["status"] == Upload.STATUS_PENDING


def test_invalid_expiration_is_a_failure_result(prefix: str) -> None:
    result = uploaded(prefix, samples.png())
    complete_upload(result["upload_id"])
    assert get_upload_file_url(result["upload_id"], expiration=0)["code"] == "invalid_input"


# delete_upload -------------------------------------------------------------------------


def test_delete_removes_object_and_row(prefix: str, boto_client: Any, django_bucket: str) -> None:
    result = uploaded(prefix, samples.png())
    complete_upload(result["upload_id"])
    assert delete_upload(result["upload_id"]) == {
        "success": True,
        "upload_id": result["upload_id"],
    }
    assert not exists(boto_client, django_bucket, result["key"])
    assert not Upload.objects.filter(pk=result["upload_id"]).exists()
    assert delete_upload(result["upload_id"])["code"] == "not_found"


def test_delete_of_a_pending_upload_without_object(prefix: str) -> None:
    result = signed(prefix)
    assert delete_upload(uuid.UUID(result["upload_id"]))["success"] is True
    assert not Upload.objects.exists()


# success_action_redirect -------------------------------------------------------------


def test_store_redirects_the_browser_back(prefix: str) -> None:
    result = signed(
        prefix, success_action_redirect="http://app.example/uploads/{upload_id}/complete/"
    )
    assert result["form_fields"]["success_action_redirect"] == (
        f"http://app.example/uploads/{result['upload_id']}/complete/"
    )
    response = post_form(result, samples.png(), filename="photo.png", content_type="image/png")
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith(
        f"http://app.example/uploads/{result['upload_id']}/complete/"
    )
    assert complete_upload(result["upload_id"])["status"] == Upload.STATUS_COMPLETE


def test_redirect_may_be_a_function_of_the_upload_id(prefix: str) -> None:
    result = signed(prefix, success_action_redirect=lambda upload_id: f"https://x.test/{upload_id}")
    assert (
        result["form_fields"]["success_action_redirect"] == f"https://x.test/{result['upload_id']}"
    )


@pytest.mark.parametrize("url", ["/relative", "javascript:alert(1)", "http://a.test/\r\nX: y"])
def test_bad_redirects_are_refused(prefix: str, url: str) -> None:
    result = get_direct_upload_form_data(
        "a.png", "image/png", MiB, prefix, success_action_redirect=url
    )
    assert result["code"] == "invalid_input" and not Upload.objects.exists()
