"""``manage.py bucket_setup`` applies brief 003's CORS rules; RGW answers preflights."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from django.core.management import CommandError, call_command


def rules(boto_client: Any, bucket: str) -> list[dict[str, Any]]:
    return list(boto_client.get_bucket_cors(Bucket=bucket)["CORSRules"])


def test_brief_003s_rule_with_the_default_origin(boto_client: Any, django_bucket: str) -> None:
    out = io.StringIO()
    call_command("bucket_setup", stdout=out)
    [rule] = rules(boto_client, django_bucket)
    assert rule["AllowedOrigins"] == ["*"]
    assert {"GET", "POST", "PUT"} <= set(rule["AllowedMethods"])
    assert rule["AllowedHeaders"] == ["*"] and rule["MaxAgeSeconds"] == 3000
    assert f"CORS rules of bucket {django_bucket}" in out.getvalue()


def test_origins_from_options_and_settings(
    boto_client: Any, django_bucket: str, s3_server: Any, settings: Any
) -> None:
    call_command(
        "bucket_setup",
        "--origin",
        "https://a.test",
        "--origin",
        "https://b.test",
        "--max-age",
        "60",
        stdout=io.StringIO(),
    )
    [rule] = rules(boto_client, django_bucket)
    assert rule["AllowedOrigins"] == ["https://a.test", "https://b.test"]
    assert rule["MaxAgeSeconds"] == 60
    preflight = httpx.options(
        f"{s3_server.endpoint_url}/{django_bucket}",
        headers={"Origin": "https://b.test", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://b.test"

    settings.S3FILES_CORS_ORIGINS = ["https://app.test"]
    call_command("bucket_setup", stdout=io.StringIO())
    assert rules(boto_client, django_bucket)[0]["AllowedOrigins"] == ["https://app.test"]


def test_failures_are_command_errors(settings: Any) -> None:
    with pytest.raises(CommandError, match="max-age"):
        call_command("bucket_setup", "--max-age", "-1")
    settings.AWS_S3_BUCKET_NAME = "no-such-bucket-s3files"
    with pytest.raises(CommandError, match="bucket does not exist"):
        call_command("bucket_setup", stdout=io.StringIO())
