"""The service's settings: the core's (store, validation, naming) and what only
``s3files serve`` reads — the metadata database, JWTs from an identity provider, CORS and
logging. The library never sees these; the service, its CLI commands and its tests build
``ServiceSettings``.

    settings = load_service_settings(database_url="postgresql://db/files")
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from s3files._config import Settings, http_url, load_into

__all__ = ["ServiceSettings", "load_service_settings"]


def _optional(name: str) -> Any:
    return Field(None, validation_alias=name)


class ServiceSettings(Settings):
    """Every setting of ``s3files serve`` (each field names its environment variable)."""

    database_url: str | None = _optional("S3FILES_DATABASE_URL")
    jwt_secret: SecretStr | None = _optional("S3FILES_JWT_SECRET")
    jwt_jwks_url: str | None = _optional("S3FILES_JWT_JWKS_URL")
    jwt_audience: str | None = _optional("S3FILES_JWT_AUDIENCE")
    jwt_issuer: str | None = _optional("S3FILES_JWT_ISSUER")
    cors_origins: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(), validation_alias="S3FILES_CORS_ORIGINS"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias="S3FILES_LOG_LEVEL"
    )
    # the service's keys start with this ('users/{owner}': one prefix per owner); '' for none
    s3files_key_prefix: str = Field("", validation_alias="S3FILES_KEY_PREFIX")
    # the quota of an owner whose own quota an admin has not set (None: no limit)
    default_quota_bytes: int | None = Field(
        None, ge=0, validation_alias="S3FILES_DEFAULT_QUOTA_BYTES"
    )
    default_quota_files: int | None = Field(
        None, ge=0, validation_alias="S3FILES_DEFAULT_QUOTA_FILES"
    )
    # how often each replica completes small files Uppy sent by form (0: never)
    companion_sweep_seconds: float = Field(
        10.0, ge=0, validation_alias="S3FILES_COMPANION_SWEEP_SECONDS"
    )

    @field_validator("s3files_key_prefix")
    @classmethod
    def _check_key_prefix(cls, value: str) -> str:
        if "{" in value.replace("{owner}", "") or "}" in value.replace("{owner}", ""):
            raise ValueError("the only placeholder is {owner}")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return frozenset(o.strip().rstrip("/") for o in value.split(",") if o.strip())
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("use a sqlite:// or postgresql:// URL")
        return value or None

    @field_validator("jwt_jwks_url")
    @classmethod
    def _check_jwks_url(cls, value: str | None) -> str | None:
        return http_url(value)

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


def load_service_settings(**overrides: Any) -> ServiceSettings:
    """``ServiceSettings(**overrides)``; errors name the environment variables."""
    return load_into(ServiceSettings, **overrides)
