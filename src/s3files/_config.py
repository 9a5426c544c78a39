"""Settings: one place that reads configuration from the environment and ``.env``.

Precedence, highest first: arguments passed to ``Settings(...)``, environment variables,
the ``.env`` file in the working directory, the defaults below. S3 credentials that are not
set here come from the standard AWS chain (``AWS_PROFILE``, shared config files, container
and instance roles), resolved by botocore.

Where does the data go? ``S3FILES_STORAGE_URL`` (``s3://bucket/prefix`` or
``file:///path``) if set; otherwise ``s3://$S3_BUCKET_NAME`` if a bucket is named; otherwise
the local disk under ``$S3FILES_DATA_DIR/files``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from s3files._errors import ConfigurationError
from s3files.naming import NamingPolicy, NamingStrategy, validate_folder_template
from s3files.validation import DEFAULT_ALLOWED_EXTENSIONS, DEFAULT_ALLOWED_MIME_TYPES, UploadPolicy

__all__ = ["Settings", "StorageLocation", "load_settings"]


def _env(*names: str) -> Any:
    """An optional setting read from the first of ``names`` that is set."""
    alias = AliasChoices(*names) if len(names) > 1 else names[0]
    return Field(None, validation_alias=alias)


@dataclass(frozen=True, slots=True)
class StorageLocation:
    """Where files live: ``scheme`` is 's3' or 'file'."""

    scheme: Literal["s3", "file"]
    bucket: str | None
    prefix: str
    path: Path | None

    @classmethod
    def parse(cls, url: str) -> StorageLocation:
        """Parse ``s3://bucket/prefix`` or ``file:///absolute/path``."""
        parts = urlsplit(url)
        if parts.scheme == "s3":
            if not parts.netloc:
                raise ConfigurationError(f"S3FILES_STORAGE_URL: {url!r} names no bucket")
            return cls("s3", parts.netloc, parts.path.strip("/"), None)
        if parts.scheme == "file":
            path = Path(unquote(parts.netloc + parts.path)).expanduser()
            if not path.is_absolute():
                path = Path.cwd() / path
            return cls("file", None, "", path)
        raise ConfigurationError(f"S3FILES_STORAGE_URL: {url!r} must start with s3:// or file://")


class Settings(BaseSettings):
    """Every setting of s3files, read from the environment names of the product brief.

    >>> Settings(s3_bucket="my-bucket", aws_region="eu-west-1").storage_location().bucket
    'my-bucket'
    """

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, case_sensitive=False
    )

    # Credentials and endpoint (brief 001, 003, 004)
    aws_access_key_id: str | None = _env("AWS_ACCESS_KEY_ID")
    aws_secret_access_key: SecretStr | None = _env("AWS_SECRET_ACCESS_KEY")
    aws_session_token: SecretStr | None = _env("AWS_SESSION_TOKEN")
    aws_profile: str | None = _env("AWS_PROFILE")
    aws_region: str = Field("us-east-1", validation_alias="AWS_REGION")
    s3_region: str | None = _env("S3_REGION")
    s3_bucket: str | None = _env("S3_BUCKET_NAME", "S3_BUCKET", "AWS_STORAGE_BUCKET_NAME")
    s3_endpoint_url: str | None = _env("S3_ENDPOINT_URL")
    s3_addressing_style: Literal["auto", "path", "virtual"] = Field(
        "auto", validation_alias="S3_ADDRESSING_STYLE"
    )
    storage_url: str | None = _env("S3FILES_STORAGE_URL")

    # Upload validation (brief 004)
    s3_max_file_size_mb: float = Field(100, gt=0, validation_alias="S3_MAX_FILE_SIZE_MB")
    s3_allowed_extensions: Annotated[frozenset[str] | None, NoDecode] = Field(
        DEFAULT_ALLOWED_EXTENSIONS, validation_alias="S3_ALLOWED_EXTENSIONS"
    )
    s3_allowed_mime_types: Annotated[frozenset[str] | None, NoDecode] = Field(
        DEFAULT_ALLOWED_MIME_TYPES, validation_alias="S3_ALLOWED_MIME_TYPES"
    )

    # Naming (brief 004)
    s3_use_uuid_prefix: bool = Field(True, validation_alias="S3_USE_UUID_PREFIX")
    s3_preserve_filename: bool = Field(True, validation_alias="S3_PRESERVE_FILENAME")
    s3_naming_strategy: NamingStrategy | None = _env("S3_NAMING_STRATEGY")
    s3_folder_structure: str = Field("{year}/{month}/{day}", validation_alias="S3_FOLDER_STRUCTURE")

    # URLs and encryption (brief 004)
    s3_presigned_url_expiry: int = Field(
        3600, ge=1, le=604800, validation_alias="S3_PRESIGNED_URL_EXPIRY"
    )
    s3_download_url_expiry: int = Field(
        300, ge=1, le=604800, validation_alias="S3_DOWNLOAD_URL_EXPIRY"
    )
    s3_encrypt_at_rest: bool = Field(False, validation_alias="S3_ENCRYPT_AT_REST")
    s3_kms_key_id: str | None = _env("S3_KMS_KEY_ID")

    # Local store and service
    data_dir: Path = Field(Path("s3files-data"), validation_alias="S3FILES_DATA_DIR")
    signing_key: SecretStr | None = _env("S3FILES_SIGNING_KEY")
    public_base_url: str = Field("http://127.0.0.1:8000", validation_alias="S3FILES_PUBLIC_URL")
    database_url: str | None = _env("S3FILES_DATABASE_URL")
    jwt_secret: SecretStr | None = _env("S3FILES_JWT_SECRET")
    jwt_jwks_url: str | None = _env("S3FILES_JWT_JWKS_URL")
    jwt_audience: str | None = _env("S3FILES_JWT_AUDIENCE")
    jwt_issuer: str | None = _env("S3FILES_JWT_ISSUER")
    cors_origins: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(), validation_alias="S3FILES_CORS_ORIGINS"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias="S3FILES_LOG_LEVEL"
    )

    @field_validator("s3_allowed_extensions", "s3_allowed_mime_types", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            # ".PDF" → "pdf"; MIME types never start with a dot, so one rule serves both
            items = {item.strip().lower().lstrip(".") for item in value.split(",") if item.strip()}
            return None if items in ({"*"}, set()) else frozenset(items)
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return frozenset(o.strip().rstrip("/") for o in value.split(",") if o.strip())
        return value

    @field_validator("s3_folder_structure")
    @classmethod
    def _check_template(cls, value: str) -> str:
        try:
            return validate_folder_template(value)
        except ConfigurationError as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("database_url")
    @classmethod
    def _check_database(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("use a sqlite:// or postgresql:// URL")
        return value or None

    @field_validator("s3_endpoint_url", "public_base_url", "jwt_jwks_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")

    # Derived values -------------------------------------------------------------------

    @property
    def s3_bucket_name(self) -> str | None:
        """Alias of ``s3_bucket`` under brief 004's name."""
        return self.s3_bucket

    @property
    def region(self) -> str:
        """``S3_REGION`` if set, else ``AWS_REGION``."""
        return self.s3_region or self.aws_region

    def database(self) -> str:
        """The SQLAlchemy async URL: ``S3FILES_DATABASE_URL``, or SQLite in the data dir."""
        default = f"sqlite+aiosqlite:///{(self.data_dir / 's3files.db').absolute()}"
        url = self.database_url or default
        for plain, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url

    def storage_location(self) -> StorageLocation:
        if self.storage_url:
            return StorageLocation.parse(self.storage_url)
        if self.s3_bucket:
            return StorageLocation("s3", self.s3_bucket, "", None)
        return StorageLocation("file", None, "", (self.data_dir / "files").absolute())

    def upload_policy(self) -> UploadPolicy:
        return UploadPolicy(
            max_size=int(self.s3_max_file_size_mb * 1024 * 1024),
            allowed_extensions=self.s3_allowed_extensions,
            allowed_mime_types=self.s3_allowed_mime_types,
        )

    def naming_policy(self) -> NamingPolicy:
        """Brief 004's flags: UUID prefix, else timestamp prefix; S3_NAMING_STRATEGY overrides."""
        strategy: NamingStrategy = self.s3_naming_strategy or (
            "uuid" if self.s3_use_uuid_prefix else "timestamp"
        )
        return NamingPolicy(
            strategy=strategy,
            preserve_filename=self.s3_preserve_filename,
            folder_structure=self.s3_folder_structure,
        )


def _variable_for(field_name: str) -> str:
    field = Settings.model_fields.get(field_name)
    alias = field.validation_alias if field else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return str(alias) if alias else field_name.upper()


def load_settings(**overrides: Any) -> Settings:
    """``Settings(**overrides)``, with validation errors turned into a ``ConfigurationError``
    whose message names each offending environment variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            location = str(error["loc"][0]) if error["loc"] else "?"
            name = _variable_for(location) if location in Settings.model_fields else location
            problems.append(f"{name}: {error['msg']}")
        raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from None
