"""Settings: brief 003's names, the endpoint, the S3FILES_* limits, the cached store."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from s3files import ConfigurationError
from s3files.contrib.django.conf import get_file_store, load_config
from s3files.stores.s3 import S3Store
from s3files.validation import DEFAULT_ALLOWED_EXTENSIONS


def config_of(**values: Any) -> Any:
    return load_config(SimpleNamespace(**{"AWS_S3_BUCKET_NAME": "media", **values}))


def test_brief_003s_names() -> None:
    config = config_of(
        AWS_ACCESS_KEY_ID="AKIA1",
        AWS_SECRET_ACCESS_KEY="s3cr3t-value",
        AWS_REGION="eu-west-3",
        AWS_S3_ENDPOINT_URL="http://127.0.0.1:7480",
    )
    assert config.bucket == "media" and config.region == "eu-west-3"
    assert config.endpoint_url == "http://127.0.0.1:7480"
    credentials = config.credentials()
    assert credentials is not None and credentials.access_key == "AKIA1"
    assert "s3cr3t" not in repr(config) and "s3cr3t" not in repr(credentials)


def test_defaults() -> None:
    config = config_of()
    assert config.region == "us-east-1" and config.endpoint_url is None
    assert config.credentials() is None  # boto3's default chain (instance role, profile)
    assert config.upload_expiry == 3600 and config.cors_origins == ("*",)
    assert config.allowed_extensions == DEFAULT_ALLOWED_EXTENSIONS
    assert config.naming_policy().strategy == "uuid"


def test_bucket_falls_back_to_aws_storage_bucket_name() -> None:
    config = load_config(
        SimpleNamespace(AWS_S3_BUCKET_NAME="", AWS_STORAGE_BUCKET_NAME="from-storages")
    )
    assert config.bucket == "from-storages"
    assert (
        load_config(SimpleNamespace(AWS_S3_REGION_NAME="ap-south-1", AWS_S3_BUCKET_NAME="b")).region
        == "ap-south-1"
    )


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"AWS_S3_BUCKET_NAME": ""}, "AWS_S3_BUCKET_NAME"),
        ({"AWS_ACCESS_KEY_ID": "AKIA1"}, "AWS_SECRET_ACCESS_KEY"),
        ({"S3FILES_UPLOAD_EXPIRY": 0}, "S3FILES_UPLOAD_EXPIRY"),
        ({"S3FILES_UPLOAD_EXPIRY": 7200}, "S3FILES_UPLOAD_EXPIRY"),
        ({"S3FILES_MAX_UPLOAD_SIZE": -1}, "S3FILES_MAX_UPLOAD_SIZE"),
        ({"S3FILES_ALLOWED_EXTENSIONS": "png"}, "S3FILES_ALLOWED_EXTENSIONS"),
        ({"S3FILES_CORS_ORIGINS": "*"}, "S3FILES_CORS_ORIGINS"),
        ({"AWS_S3_ADDRESSING_STYLE": "sideways"}, "AWS_S3_ADDRESSING_STYLE"),
    ],
)
def test_bad_settings_name_the_setting(values: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        config_of(**values)


def test_allowlists() -> None:
    config = config_of(S3FILES_ALLOWED_EXTENSIONS=[".PNG", "jpg"], S3FILES_ALLOWED_MIME_TYPES=None)
    policy = config.upload_policy()
    assert policy.allowed_extensions == {"png", "jpg"} and policy.allowed_mime_types is None


def test_store_is_cached_per_settings_and_reset_when_they_change(
    settings: Any, django_bucket: str
) -> None:
    files = get_file_store()
    assert get_file_store() is files
    assert isinstance(files.store, S3Store) and files.store.bucket == django_bucket
    settings.S3FILES_MAX_UPLOAD_SIZE = 12345
    changed = get_file_store()
    assert changed is not files and changed.policy.max_size == 12345
    settings.DEBUG = not settings.DEBUG  # not ours: the cache stays
    assert get_file_store() is changed
