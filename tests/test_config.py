"""Settings from the environment, under the brief's names."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from s3files import ConfigurationError, FileStore, LocalStore, S3Store, Settings, load_settings
from s3files._config import S3Config, StorageLocation
from s3files.connector import CREDENTIAL_KEYS
from s3files.contrib.django.conf import SETTING_NAMES
from s3files.validation import DEFAULT_ALLOWED_EXTENSIONS

ENV_NAMES = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_PROFILE",
    "S3_BUCKET_NAME",
    "S3_BUCKET",
    "AWS_STORAGE_BUCKET_NAME",
    "S3_REGION",
    "S3_ENDPOINT_URL",
    "S3_MAX_FILE_SIZE_MB",
    "S3_ALLOWED_EXTENSIONS",
    "S3_ALLOWED_MIME_TYPES",
    "S3_USE_UUID_PREFIX",
    "S3_PRESERVE_FILENAME",
    "S3_FOLDER_STRUCTURE",
    "S3_PRESIGNED_URL_EXPIRY",
    "S3_DOWNLOAD_URL_EXPIRY",
    "S3_ENCRYPT_AT_REST",
    "S3FILES_STORAGE_URL",
    "S3FILES_DATA_DIR",
    "S3_NAMING_STRATEGY",
    "S3_KMS_KEY_ID",
    "S3_ADDRESSING_STYLE",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_brief_004_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "S3_BUCKET_NAME": "my-app-bucket",
        "S3_REGION": "eu-west-1",
        "AWS_REGION": "us-east-1",
        "S3_MAX_FILE_SIZE_MB": "50",
        "S3_ALLOWED_EXTENSIONS": "jpg, PNG,.pdf",
        "S3_ALLOWED_MIME_TYPES": "image/jpeg,image/png,application/pdf",
        "S3_USE_UUID_PREFIX": "false",
        "S3_PRESERVE_FILENAME": "true",
        "S3_FOLDER_STRUCTURE": "uploads/{year}-{month}",
        "S3_PRESIGNED_URL_EXPIRY": "3600",
        "S3_DOWNLOAD_URL_EXPIRY": "300",
        "S3_ENCRYPT_AT_REST": "true",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.s3_bucket_name == "my-app-bucket"
    assert settings.region == "eu-west-1"
    policy = settings.upload_policy()
    assert policy.max_size == 50 * 1024 * 1024
    assert policy.allowed_extensions == frozenset({"jpg", "png", "pdf"})
    assert policy.allowed_mime_types == frozenset({"image/jpeg", "image/png", "application/pdf"})
    naming = settings.naming_policy()
    assert naming.strategy == "timestamp" and naming.folder_structure == "uploads/{year}-{month}"
    assert settings.storage_location() == StorageLocation("s3", "my-app-bucket", "", None)
    files = FileStore.from_settings(settings)
    assert files.encryption == "AES256"
    assert isinstance(files.store, S3Store) and files.store.region == "eu-west-1"
    assert files.store.public_url("a b.pdf") == (
        "https://my-app-bucket.s3.eu-west-1.amazonaws.com/a%20b.pdf"
    )


@pytest.mark.parametrize("variable", ["S3_BUCKET_NAME", "S3_BUCKET", "AWS_STORAGE_BUCKET_NAME"])
def test_bucket_aliases(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "b1")
    assert load_settings().s3_bucket == "b1"


def test_dot_env_file_and_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("S3_BUCKET_NAME=from-dotenv\nAWS_REGION=ap-south-1\n")
    assert load_settings().s3_bucket == "from-dotenv"
    monkeypatch.setenv("S3_BUCKET_NAME", "from-env")
    assert load_settings().s3_bucket == "from-env"
    assert load_settings(s3_bucket="from-argument").s3_bucket == "from-argument"
    assert load_settings().region == "ap-south-1"


def test_secrets_are_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "super-secret-value")
    settings = load_settings()
    assert "super-secret-value" not in repr(settings)
    assert "super-secret-value" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("S3_MAX_FILE_SIZE_MB", "lots"),
        ("S3_MAX_FILE_SIZE_MB", "-1"),
        ("S3_USE_UUID_PREFIX", "perhaps"),
        ("S3_PRESIGNED_URL_EXPIRY", "99999999"),
        ("S3_FOLDER_STRUCTURE", "{user}/{year}"),
        ("S3_ENDPOINT_URL", "ftp://example"),
        ("S3_NAMING_STRATEGY", "random"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert variable in str(caught.value)


def test_storage_urls(tmp_path: Path) -> None:
    assert StorageLocation.parse("s3://bucket/some/prefix/") == StorageLocation(
        "s3", "bucket", "some/prefix", None
    )
    assert StorageLocation.parse(f"file://{tmp_path}").path == tmp_path
    for bad in ["s3://", "http://x", "bucket"]:
        with pytest.raises(ConfigurationError, match="S3FILES_STORAGE_URL"):
            StorageLocation.parse(bad)
    settings = Settings(data_dir=tmp_path)
    location = settings.storage_location()
    assert location.scheme == "file" and location.path == tmp_path / "files"
    files = FileStore.from_settings(settings)
    assert isinstance(files.store, LocalStore)
    assert (tmp_path / "signing.key").stat().st_mode & 0o777 == 0o600


def test_defaults() -> None:
    settings = load_settings()
    assert settings.region == "us-east-1"
    assert settings.s3_allowed_extensions == DEFAULT_ALLOWED_EXTENSIONS
    assert settings.naming_policy().strategy == "uuid"
    assert load_settings(s3_allowed_extensions="*").upload_policy().allowed_extensions is None


# The one S3 configuration ---------------------------------------------------------------

S3_VALUES = {
    "bucket": "some-bucket",
    "region": "eu-north-1",
    "endpoint_url": "http://127.0.0.1:7480",
    "addressing_style": "virtual",
    "profile": "someone",
}


def test_each_s3_field_names_where_it_is_read() -> None:
    for name, field in S3Config.model_fields.items():
        assert field.description, name
        for scheme in ("env", "django", "connector"):
            for setting in S3Config.names(name, scheme):
                assert setting in field.description, (name, setting)
    assert S3Config.names("access_key_id", "env") == ("AWS_ACCESS_KEY_ID",)
    assert S3Config.names("bucket", "env") == (
        "S3_BUCKET_NAME",
        "S3_BUCKET",
        "AWS_STORAGE_BUCKET_NAME",
    )
    assert S3Config.names("endpoint_url", "django") == ("AWS_S3_ENDPOINT_URL",)
    assert {n for f in S3Config.model_fields for n in S3Config.names(f, "connector")} == (
        CREDENTIAL_KEYS
    )
    assert {n for f in S3Config.model_fields for n in S3Config.names(f, "django")} <= SETTING_NAMES


@pytest.mark.parametrize(("field", "value"), sorted(S3_VALUES.items()))
def test_settings_read_every_environment_name_of_s3config(
    monkeypatch: pytest.MonkeyPatch, field: str, value: str
) -> None:
    for variable in S3Config.names(field, "env"):
        monkeypatch.setenv(variable, value)
        assert getattr(load_settings().s3_config(), field) == value, variable
        monkeypatch.delenv(variable)
    assert getattr(load_settings().s3_config(), field) != value  # unset again: the default


def test_s3_config_of_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3FILES_STORAGE_URL", "s3://files-bucket/app/data")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "super-secret-value")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-value")
    monkeypatch.setenv("S3_REGION", "eu-west-3")
    monkeypatch.setenv("AWS_REGION", "us-west-2")  # S3_REGION wins
    config = load_settings().s3_config()
    assert (config.bucket, config.prefix, config.region) == (
        "files-bucket",
        "app/data",
        "eu-west-3",
    )
    credentials = config.credentials()
    assert credentials is not None
    assert (credentials.access_key, credentials.secret_key, credentials.session_token) == (
        "AKIAEXAMPLE",
        "super-secret-value",
        "token-value",
    )
    assert "super-secret-value" not in repr(config) and "token-value" not in repr(config)
    assert config.connector_credentials() == {
        "aws_access_key_id": "AKIAEXAMPLE",
        "aws_secret_access_key": "super-secret-value",
        "aws_session_token": "token-value",
        "region_name": "eu-west-3",
        "addressing_style": "auto",
    }
    store = FileStore.from_settings(load_settings()).store
    assert isinstance(store, S3Store)
    assert store.config == config and store.prefix == "app/data" and store.region == "eu-west-3"
    assert store.public_url("k") == "https://files-bucket.s3.eu-west-3.amazonaws.com/app/data/k"


def test_a_key_without_its_secret_names_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3_BUCKET_NAME", "b")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    with pytest.raises(ConfigurationError, match="AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
        FileStore.from_settings(load_settings())


def test_s3_config_reads_any_of_its_name_schemes() -> None:
    django = {
        "AWS_S3_BUCKET_NAME": "",
        "AWS_STORAGE_BUCKET_NAME": "media",
        "AWS_S3_REGION_NAME": "x",
    }
    config = S3Config.read(django.get, "django")
    assert (config.bucket, config.region) == ("media", "x")
    with pytest.raises(ConfigurationError, match="AWS_S3_ENDPOINT_URL"):
        S3Config.read({"AWS_S3_ENDPOINT_URL": "ftp://example"}.get, "django")
    with pytest.raises(ConfigurationError, match="addressing_style"):
        S3Config.read({"addressing_style": "sideways"}.get, "connector")
    plain = S3Config(access_key_id="a", secret_access_key=SecretStr("s"))
    assert plain.resolved_addressing_style() == "auto"  # no bucket: botocore decides per bucket
    assert S3Config(bucket="a.b").resolved_addressing_style() == "path"
    assert S3Config(bucket="ab").resolved_addressing_style() == "virtual"
    assert S3Config(bucket="ab", endpoint_url="http://h:1").resolved_addressing_style() == "path"
    assert hash(plain) == hash(S3Config(access_key_id="a", secret_access_key=SecretStr("s")))
