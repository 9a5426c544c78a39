"""Settings: one place that reads configuration from the environment and ``.env``.

Precedence, highest first: arguments passed to ``Settings(...)``, environment variables,
the ``.env`` file in the working directory, the defaults below. S3 credentials that are not
set here come from the standard AWS chain (``AWS_PROFILE``, shared config files, container
and instance roles), resolved by botocore.

Where does the data go? ``S3FILES_STORAGE_URL`` (``s3://bucket/prefix`` or
``file:///path``) if set; otherwise ``s3://$S3_BUCKET_NAME`` if a bucket is named; otherwise
the local disk under ``$S3FILES_DATA_DIR/files``.

How to reach an S3 store is one typed ``S3Config``: every field names the environment
variable ``Settings`` reads it from, the Django setting the Django app reads it from and the
key of the connector's ``connect(credentials)`` dict. ``Settings.s3_config()``, the Django
app's ``load_config`` and the connector all produce one; ``stores/_s3_client.py`` builds the
botocore client from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, cast
from urllib.parse import unquote, urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from s3files._errors import ConfigurationError, S3FilesError
from s3files.naming import NamingPolicy, NamingStrategy, validate_folder_template
from s3files.signing import Credentials
from s3files.validation import DEFAULT_ALLOWED_EXTENSIONS, DEFAULT_ALLOWED_MIME_TYPES, UploadPolicy

__all__ = [
    "AddressingStyle",
    "S3Config",
    "Settings",
    "StorageLocation",
    "load_into",
    "load_settings",
]

AddressingStyle = Literal["auto", "path", "virtual"]
#: Where a face of s3files reads an S3 setting: the environment (``Settings``), Django's
#: settings, the connector's ``connect()`` dict, or attributes of a settings object
#: (``Settings``' own and those passed to ``S3Service(settings)``).
NameScheme = Literal["env", "django", "connector", "attribute"]


def http_url(value: str | None) -> str | None:
    """``value`` without a trailing slash if it is an http(s) URL; ``ValueError`` if not."""
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value.rstrip("/")


def _s3_field(
    default: Any,
    *env: str,
    django: tuple[str, ...] = (),
    connector: str = "",
    attribute: tuple[str, ...] = (),
    doc: str,
) -> Any:
    """A field of ``S3Config`` that says where each face of s3files reads it."""
    where = [f"environment: {', '.join(env)}" if env else "no environment variable"]
    if django:
        where.append(f"Django setting: {', '.join(django)}")
    if connector:
        where.append(f"connector key: {connector}")
    names: dict[str, Any] = {
        "env": list(env),
        "django": list(django),
        "connector": [connector] if connector else [],
        "attribute": list(attribute),
    }
    return Field(default, description=f"{doc} ({'; '.join(where)})", json_schema_extra=names)


class S3Config(BaseModel):
    """How to reach an S3-compatible store, and which bucket: the one typed S3 configuration.

    Static keys, or neither (then botocore's default chain: ``AWS_PROFILE``, shared config
    files, container and instance roles). ``repr`` never shows a secret.

    >>> S3Config(bucket="media", endpoint_url="http://127.0.0.1:7480/").endpoint_url
    'http://127.0.0.1:7480'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    bucket: str | None = _s3_field(
        None,
        "S3_BUCKET_NAME",
        "S3_BUCKET",
        "AWS_STORAGE_BUCKET_NAME",
        django=("AWS_S3_BUCKET_NAME", "AWS_STORAGE_BUCKET_NAME"),
        attribute=("s3_bucket",),
        doc="the bucket (also the host of S3FILES_STORAGE_URL=s3://bucket/prefix)",
    )
    prefix: str = _s3_field(
        "", doc="a key prefix inside the bucket: the path of S3FILES_STORAGE_URL"
    )
    region: str | None = _s3_field(
        None,
        "S3_REGION",
        "AWS_REGION",
        django=("AWS_REGION", "AWS_S3_REGION_NAME"),
        connector="region_name",
        attribute=("s3_region", "aws_region"),
        doc="the region requests are signed for; None: the profile's, else us-east-1",
    )
    endpoint_url: str | None = _s3_field(
        None,
        "S3_ENDPOINT_URL",
        django=("AWS_S3_ENDPOINT_URL",),
        connector="endpoint_url",
        attribute=("s3_endpoint_url",),
        doc="an S3-compatible server (Ceph RGW, MinIO, R2); None for AWS",
    )
    addressing_style: AddressingStyle = _s3_field(
        "auto",
        "S3_ADDRESSING_STYLE",
        django=("AWS_S3_ADDRESSING_STYLE",),
        connector="addressing_style",
        attribute=("s3_addressing_style",),
        doc="auto (path style with an endpoint or a dotted bucket name), path or virtual",
    )
    access_key_id: str | None = _s3_field(
        None,
        "AWS_ACCESS_KEY_ID",
        django=("AWS_ACCESS_KEY_ID",),
        connector="aws_access_key_id",
        attribute=("aws_access_key_id",),
        doc="a static access key, with its secret",
    )
    secret_access_key: SecretStr | None = _s3_field(
        None,
        "AWS_SECRET_ACCESS_KEY",
        django=("AWS_SECRET_ACCESS_KEY",),
        connector="aws_secret_access_key",
        attribute=("aws_secret_access_key",),
        doc="the secret of the static access key",
    )
    session_token: SecretStr | None = _s3_field(
        None,
        "AWS_SESSION_TOKEN",
        django=("AWS_SESSION_TOKEN",),
        connector="aws_session_token",
        attribute=("aws_session_token",),
        doc="for temporary credentials",
    )
    profile: str | None = _s3_field(
        None,
        "AWS_PROFILE",
        connector="profile_name",
        attribute=("aws_profile",),
        doc="a profile of the shared AWS config files, when no static keys are given",
    )

    @field_validator("endpoint_url")
    @classmethod
    def _check_endpoint(cls, value: str | None) -> str | None:
        return http_url(value)

    @field_validator("bucket", "region", "access_key_id", "profile", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @model_validator(mode="after")
    def _keys_in_pairs(self) -> S3Config:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("give both the access key id and its secret, or neither")
        return self

    @classmethod
    def names(cls, field: str, scheme: NameScheme) -> tuple[str, ...]:
        """Where ``field`` is read from: environment variables, Django settings or the
        connector's key."""
        extra = cls.model_fields[field].json_schema_extra
        assert isinstance(extra, dict)
        return tuple(cast(list[str], extra[scheme]))

    @classmethod
    def read(
        cls,
        lookup: Callable[[str], Any],
        scheme: NameScheme,
        *,
        error: type[S3FilesError] = ConfigurationError,
        report: NameScheme | None = None,
        **values: Any,
    ) -> S3Config:
        """An ``S3Config`` from the first non-empty of each field's names in ``scheme``
        (``values`` win); invalid values raise ``error`` naming the setting at fault (by
        its name in ``report``, default ``scheme``)."""
        report = report or scheme
        found: dict[str, Any] = {}
        source: dict[str, str] = {}
        for name in cls.model_fields:
            for setting in cls.names(name, scheme):
                value = lookup(setting)
                if value is not None and value != "":
                    found[name], source[name] = value, setting
                    break
        found.update(values)
        try:
            return cls(**found)
        except ValidationError as exc:
            problems = []
            for problem in exc.errors():
                field = str(problem["loc"][0]) if problem["loc"] else ""
                if field:
                    named = (source.get(field) if report == scheme else None) or (
                        cls.names(field, report) or (field,)
                    )[0]
                else:  # the key pair
                    keys = ("access_key_id", "secret_access_key")
                    named = " and ".join(cls.names(k, report)[0] for k in keys)
                problems.append(f"{named}: {problem['msg'].removeprefix('Value error, ')}")
            raise error("invalid S3 configuration: " + "; ".join(problems)) from None

    def credentials(self) -> Credentials | None:
        """The static credentials, or None for botocore's default chain."""
        if self.access_key_id and self.secret_access_key:
            token = self.session_token.get_secret_value() if self.session_token else None
            return Credentials(self.access_key_id, self.secret_access_key.get_secret_value(), token)
        return None

    def resolved_addressing_style(self) -> AddressingStyle:
        """``auto`` made concrete where it can be: path style for an endpoint (most
        S3-compatible servers have no wildcard DNS) and for a dotted bucket name (which
        the TLS certificate of virtual-host names does not cover); virtual for other
        buckets; botocore's own per-bucket choice when no bucket is named (the connector)."""
        if self.addressing_style != "auto":
            return self.addressing_style
        if self.endpoint_url:
            return "path"
        if self.bucket is None:
            return "auto"
        return "path" if "." in self.bucket else "virtual"

    def connector_credentials(self) -> dict[str, str]:
        """The connector's ``connect()`` dict for this configuration (no bucket)."""
        credentials: dict[str, str] = {}
        if self.region:
            credentials["region_name"] = self.region
        static = self.credentials()
        if static is not None:
            credentials["aws_access_key_id"] = static.access_key
            credentials["aws_secret_access_key"] = static.secret_key
            if static.session_token:
                credentials["aws_session_token"] = static.session_token
        elif self.profile:
            credentials["profile_name"] = self.profile
        if self.endpoint_url:
            credentials["endpoint_url"] = self.endpoint_url
        credentials["addressing_style"] = self.addressing_style
        return credentials


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


_S3_REGION, _AWS_REGION = S3Config.names("region", "env")  # S3_REGION wins


class Settings(BaseSettings):
    """Every setting of s3files, read from environment variables (``AWS_*``, ``S3_*``,
    ``S3FILES_*``) or a ``.env`` file.

    >>> Settings(s3_bucket="my-bucket", aws_region="eu-west-1").storage_location().bucket
    'my-bucket'
    """

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, case_sensitive=False
    )

    # Credentials and endpoint: the environment names of S3Config
    aws_access_key_id: str | None = _env(*S3Config.names("access_key_id", "env"))
    aws_secret_access_key: SecretStr | None = _env(*S3Config.names("secret_access_key", "env"))
    aws_session_token: SecretStr | None = _env(*S3Config.names("session_token", "env"))
    aws_profile: str | None = _env(*S3Config.names("profile", "env"))
    aws_region: str = Field("us-east-1", validation_alias=_AWS_REGION)
    s3_region: str | None = _env(_S3_REGION)
    s3_bucket: str | None = _env(*S3Config.names("bucket", "env"))
    s3_endpoint_url: str | None = _env(*S3Config.names("endpoint_url", "env"))
    s3_addressing_style: AddressingStyle = Field(
        "auto", validation_alias=S3Config.names("addressing_style", "env")[0]
    )
    storage_url: str | None = _env("S3FILES_STORAGE_URL")

    # Upload validation
    s3_max_file_size_mb: float = Field(100, gt=0, validation_alias="S3_MAX_FILE_SIZE_MB")
    s3_allowed_extensions: Annotated[frozenset[str] | None, NoDecode] = Field(
        DEFAULT_ALLOWED_EXTENSIONS, validation_alias="S3_ALLOWED_EXTENSIONS"
    )
    s3_allowed_mime_types: Annotated[frozenset[str] | None, NoDecode] = Field(
        DEFAULT_ALLOWED_MIME_TYPES, validation_alias="S3_ALLOWED_MIME_TYPES"
    )

    # Naming
    s3_use_uuid_prefix: bool = Field(True, validation_alias="S3_USE_UUID_PREFIX")
    s3_preserve_filename: bool = Field(True, validation_alias="S3_PRESERVE_FILENAME")
    s3_naming_strategy: NamingStrategy | None = _env("S3_NAMING_STRATEGY")
    s3_folder_structure: str = Field("{year}/{month}/{day}", validation_alias="S3_FOLDER_STRUCTURE")

    # URLs and encryption
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

    @field_validator("s3_allowed_extensions", "s3_allowed_mime_types", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            # ".PDF" → "pdf"; MIME types never start with a dot, so one rule serves both
            items = {item.strip().lower().lstrip(".") for item in value.split(",") if item.strip()}
            return None if items in ({"*"}, set()) else frozenset(items)
        return value

    @field_validator("s3_folder_structure")
    @classmethod
    def _check_template(cls, value: str) -> str:
        try:
            return validate_folder_template(value)
        except ConfigurationError as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("s3_endpoint_url", "public_base_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return http_url(value)

    # Derived values -------------------------------------------------------------------

    @property
    def s3_bucket_name(self) -> str | None:
        """Alias of ``s3_bucket``, named after its variable ``S3_BUCKET_NAME``."""
        return self.s3_bucket

    @property
    def region(self) -> str:
        """``S3_REGION`` if set, else ``AWS_REGION``."""
        return self.s3_region or self.aws_region

    def storage_location(self) -> StorageLocation:
        if self.storage_url:
            return StorageLocation.parse(self.storage_url)
        if self.s3_bucket:
            return StorageLocation("s3", self.s3_bucket, "", None)
        return StorageLocation("file", None, "", (self.data_dir / "files").absolute())

    def s3_config(self) -> S3Config:
        """The S3 store these settings name: bucket and prefix from ``storage_location``
        (no bucket when the files live on the local disk), credentials, endpoint, region."""
        location = self.storage_location()
        return S3Config.read(
            lambda name: getattr(self, name, None),
            "attribute",
            report="env",
            bucket=location.bucket,
            prefix=location.prefix,
        )

    def upload_policy(self) -> UploadPolicy:
        return UploadPolicy(
            max_size=int(self.s3_max_file_size_mb * 1024 * 1024),
            allowed_extensions=self.s3_allowed_extensions,
            allowed_mime_types=self.s3_allowed_mime_types,
        )

    def naming_policy(self) -> NamingPolicy:
        """S3_USE_UUID_PREFIX: UUID prefix, else timestamp prefix; S3_NAMING_STRATEGY overrides."""
        strategy: NamingStrategy = self.s3_naming_strategy or (
            "uuid" if self.s3_use_uuid_prefix else "timestamp"
        )
        return NamingPolicy(
            strategy=strategy,
            preserve_filename=self.s3_preserve_filename,
            folder_structure=self.s3_folder_structure,
        )


def _variable_for(settings_class: type[BaseSettings], field_name: str) -> str:
    field = settings_class.model_fields.get(field_name)
    alias = field.validation_alias if field else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return str(alias) if alias else field_name.upper()


_S = TypeVar("_S", bound=BaseSettings)


def load_into(settings_class: type[_S], **overrides: Any) -> _S:
    """``settings_class(**overrides)``, with validation errors turned into a
    ``ConfigurationError`` whose message names each offending environment variable."""
    try:
        return settings_class(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            location = str(error["loc"][0]) if error["loc"] else "?"
            known = location in settings_class.model_fields
            name = _variable_for(settings_class, location) if known else location
            problems.append(f"{name}: {error['msg']}")
        raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from None


def load_settings(**overrides: Any) -> Settings:
    """``Settings(**overrides)``, errors naming the environment variables (``load_into``)."""
    return load_into(Settings, **overrides)
