# mypy: disable-error-code="import-untyped"
# (Django ships no type hints; these go once the project types it with django-stubs.)
"""The app's settings, read from Django's settings, and the ``FileStore`` they describe.

The django-storages style ``AWS_*`` names, plus the endpoint of S3-compatible stores and a
few ``S3FILES_*`` limits:

=============================  ==============================================================
``AWS_ACCESS_KEY_ID``          with ``AWS_SECRET_ACCESS_KEY``; both empty: boto3's default
``AWS_SECRET_ACCESS_KEY``      chain (instance role, ``AWS_PROFILE`` ...)
``AWS_SESSION_TOKEN``          optional, for temporary credentials
``AWS_S3_BUCKET_NAME``         the bucket; falls back to ``AWS_STORAGE_BUCKET_NAME``
``AWS_REGION``                 default ``us-east-1`` (``AWS_S3_REGION_NAME`` also read)
``AWS_S3_ENDPOINT_URL``        Ceph RGW, MinIO, R2 ...; unset for AWS
``AWS_S3_ADDRESSING_STYLE``    ``auto`` (path-style with an endpoint), ``path``, ``virtual``
``S3FILES_MAX_UPLOAD_SIZE``    bytes; caps every ``max_file_size`` (default 100 MiB)
``S3FILES_ALLOWED_EXTENSIONS`` iterable, or None for any (default: the core's list)
``S3FILES_ALLOWED_MIME_TYPES`` iterable, or None for any (default: the core's list)
``S3FILES_UPLOAD_EXPIRY``      seconds an upload form stays valid, 1..3600 (default 3600)
``S3FILES_EXPIRY_GRACE``       seconds after that before a missing file fails the upload
``S3FILES_FOLDER_STRUCTURE``   key template below the prefix, e.g. ``{year}/{month}``
``S3FILES_PRESERVE_FILENAME``  keep the sanitised name in the key (default False: uuid.ext)
``S3FILES_CORS_ORIGINS``       origins ``bucket_setup`` allows (default ``["*"]``)
=============================  ==============================================================

``get_file_store()`` builds one ``FileStore`` per distinct configuration and reuses it;
Django's ``setting_changed`` signal (``override_settings`` in tests) forgets them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from s3files._config import AddressingStyle, S3Config
from s3files._errors import ConfigurationError
from s3files.naming import NamingPolicy
from s3files.signing import Credentials
from s3files.store import FileStore
from s3files.stores.s3 import S3Store
from s3files.validation import UploadPolicy

__all__ = [
    "SETTING_NAMES",
    "DjangoFilesConfig",
    "file_store_for",
    "get_file_store",
    "load_config",
    "on_setting_changed",
    "reset_file_stores",
    "store_generation",
]

SETTING_NAMES = frozenset(
    name for field in S3Config.model_fields for name in S3Config.names(field, "django")
) | frozenset(
    {
        "S3FILES_MAX_UPLOAD_SIZE",
        "S3FILES_ALLOWED_EXTENSIONS",
        "S3FILES_ALLOWED_MIME_TYPES",
        "S3FILES_UPLOAD_EXPIRY",
        "S3FILES_EXPIRY_GRACE",
        "S3FILES_FOLDER_STRUCTURE",
        "S3FILES_PRESERVE_FILENAME",
        "S3FILES_CORS_ORIGINS",
    }
)
MAX_UPLOAD_EXPIRY = 3600  # as the service's POST_EXPIRY_CAP: a form is a bearer credential
_CORE_DEFAULTS = UploadPolicy()
_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class DjangoFilesConfig:
    """Everything the app reads from Django's settings, checked and hashable. The store's
    connection is the one typed ``S3Config`` of s3files (read from the ``AWS_*`` settings)."""

    s3: S3Config
    max_upload_size: int | None = _CORE_DEFAULTS.max_size
    allowed_extensions: frozenset[str] | None = _CORE_DEFAULTS.allowed_extensions
    allowed_mime_types: frozenset[str] | None = _CORE_DEFAULTS.allowed_mime_types
    upload_expiry: int = MAX_UPLOAD_EXPIRY
    expiry_grace: int = 600
    folder_structure: str = ""
    preserve_filename: bool = False
    cors_origins: tuple[str, ...] = ("*",)

    def __repr__(self) -> str:
        return f"DjangoFilesConfig(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    @property
    def bucket(self) -> str:
        assert self.s3.bucket is not None  # load_config refuses a config without one
        return self.s3.bucket

    @property
    def region(self) -> str:
        return self.s3.region or "us-east-1"

    @property
    def endpoint_url(self) -> str | None:
        return self.s3.endpoint_url

    @property
    def addressing_style(self) -> AddressingStyle:
        return self.s3.addressing_style

    def credentials(self) -> Credentials | None:
        """Static credentials from the settings, or None for boto3's default chain."""
        return self.s3.credentials()

    def upload_policy(self) -> UploadPolicy:
        return UploadPolicy(
            max_size=self.max_upload_size,
            allowed_extensions=self.allowed_extensions,
            allowed_mime_types=self.allowed_mime_types,
        )

    def naming_policy(self) -> NamingPolicy:
        """Keys are ``<prefix>/<folder template>/<uuid>.<ext>``, never the raw filename."""
        return NamingPolicy(
            strategy="uuid",
            preserve_filename=self.preserve_filename,
            folder_structure=self.folder_structure,
        )

    def build_file_store(self) -> FileStore:
        return FileStore(
            S3Store.from_config(self.s3),
            policy=self.upload_policy(),
            naming=self.naming_policy(),
            upload_url_expiry=self.upload_expiry,
        )


def _text(settings: Any, name: str) -> str | None:
    value = getattr(settings, name, None)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"{name} must be a string")
    return value.strip() or None


def _seconds(settings: Any, name: str, default: int, *, low: int, high: int) -> int:
    value = getattr(settings, name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigurationError(f"{name} must be a whole number of seconds in {low}..{high}")
    return value


def _allowlist(settings: Any, name: str, default: frozenset[str] | None) -> frozenset[str] | None:
    value = getattr(settings, name, _UNSET)
    if value is _UNSET:
        return default
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ConfigurationError(f"{name} must be a list of strings, or None to allow any")
    items = frozenset(str(item).strip().lower().lstrip(".") for item in value)
    return frozenset(item for item in items if item)


def load_config(settings: Any = None) -> DjangoFilesConfig:
    """Read and check the settings; ``ConfigurationError`` names the setting at fault."""
    if settings is None:
        from django.conf import settings as django_settings

        settings = django_settings
    s3 = S3Config.read(lambda name: _text(settings, name), "django")
    if not s3.bucket:
        raise ConfigurationError("set AWS_S3_BUCKET_NAME (or AWS_STORAGE_BUCKET_NAME)")
    max_size = getattr(settings, "S3FILES_MAX_UPLOAD_SIZE", _CORE_DEFAULTS.max_size)
    if max_size is not None and (
        isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1
    ):
        raise ConfigurationError("S3FILES_MAX_UPLOAD_SIZE must be a number of bytes, or None")
    origins = getattr(settings, "S3FILES_CORS_ORIGINS", ("*",))
    if isinstance(origins, str) or not isinstance(origins, Iterable) or not origins:
        raise ConfigurationError("S3FILES_CORS_ORIGINS must be a non-empty list of origins")
    return DjangoFilesConfig(
        s3=s3,
        max_upload_size=max_size,
        allowed_extensions=_allowlist(
            settings, "S3FILES_ALLOWED_EXTENSIONS", _CORE_DEFAULTS.allowed_extensions
        ),
        allowed_mime_types=_allowlist(
            settings, "S3FILES_ALLOWED_MIME_TYPES", _CORE_DEFAULTS.allowed_mime_types
        ),
        upload_expiry=_seconds(
            settings, "S3FILES_UPLOAD_EXPIRY", MAX_UPLOAD_EXPIRY, low=1, high=MAX_UPLOAD_EXPIRY
        ),
        expiry_grace=_seconds(settings, "S3FILES_EXPIRY_GRACE", 600, low=0, high=7 * 24 * 3600),
        folder_structure=str(getattr(settings, "S3FILES_FOLDER_STRUCTURE", "") or ""),
        preserve_filename=bool(getattr(settings, "S3FILES_PRESERVE_FILENAME", False)),
        cors_origins=tuple(str(origin) for origin in origins),
    )


class _StoreCache:
    """One FileStore per configuration; a lock so concurrent first requests build one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stores: dict[DjangoFilesConfig, FileStore] = {}
        self.generation = 0  # bumped by clear(): holders of a store know to ask again

    def get(self, config: DjangoFilesConfig) -> FileStore:
        with self._lock:
            files = self._stores.get(config)
            if files is None:
                files = self._stores[config] = config.build_file_store()
            return files

    def clear(self) -> None:
        # Forgotten, not closed: a request may still hold one; the GC releases its pool.
        with self._lock:
            self._stores.clear()
            self.generation += 1


_cache = _StoreCache()


def get_file_store() -> FileStore:
    """The ``FileStore`` that the current Django settings describe (built once, then reused)."""
    return _cache.get(load_config())


def file_store_for(config: DjangoFilesConfig) -> FileStore:
    """The cached ``FileStore`` of one configuration (``get_file_store`` for the settings')."""
    return _cache.get(config)


def store_generation() -> int:
    """Changes whenever the cached stores are forgotten (a relevant setting changed):
    storages that keep a store compare it to know when to look it up again."""
    return _cache.generation


def reset_file_stores() -> None:
    """Forget every cached store (the next call builds from the settings again)."""
    _cache.clear()


def on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    """Receiver of Django's ``setting_changed``: a relevant change resets the cache."""
    if setting in SETTING_NAMES:
        reset_file_stores()
