# mypy: disable-error-code="import-untyped", allow-subclassing-any, no-warn-return-any
# (Django ships no type hints; these go once the project types it with django-stubs.)
"""Django storages over the s3files core: ``S3FilesStorage`` for user files (``FileField``,
``ImageField``, ``default_storage``) and ``S3FilesStaticStorage`` for ``collectstatic``.

    STORAGES = {
        "default": {"BACKEND": "s3files.contrib.django.storage.S3FilesStorage",
                    "OPTIONS": {"location": "media"}},
        "staticfiles": {"BACKEND": "s3files.contrib.django.storage.S3FilesStaticStorage",
                        "OPTIONS": {"location": "static", "querystring_auth": False}},
    }

Both use the bucket and credentials of the app's settings (``AWS_*``, see ``conf.py``) and
keep names relative to ``location`` (a key prefix). ``S3FilesStorage`` names and validates
like every s3files upload: the key is built by the naming policy (``<upload_to>/<uuid>.<ext>``,
``S3FILES_FOLDER_STRUCTURE`` and ``S3FILES_PRESERVE_FILENAME`` apply), never the raw name;
the bytes stream through the validator (size counted, type sniffed, the extension and
the claimed type checked against it), and a refused file raises the core's typed error
(``UnsupportedFileTypeError``, ``FileTooLargeError``, ``EmptyFileError``) with nothing
stored. ``S3FilesStaticStorage`` keeps names (``admin/css/base.css`` stays that, as
templates expect) and types files by their extension: it is for the project's own files,
never for uploads. ``url()`` signs without any network call (presigned GET, or the public
URL with ``querystring_auth=False``); ``open()`` streams (see ``_files.py``).
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import File
from django.core.files.storage import Storage
from django.utils import timezone
from django.utils.deconstruct import deconstructible

from s3files._errors import ConfigurationError, InvalidInputError
from s3files._models import PutOptions
from s3files.contrib.django._files import StoredObjectFile
from s3files.contrib.django.conf import file_store_for, load_config, store_generation
from s3files.direct import STAGING_PREFIX
from s3files.naming import (
    build_key,
    display_name,
    sanitize_filename,
    sanitize_folder,
    validate_key,
)
from s3files.signing import quote_key
from s3files.store import FileStore, content_disposition

__all__ = ["S3FilesStaticStorage", "S3FilesStorage"]

_UNSET: Any = object()
_WRITE_MODES = frozenset("wax+")


@deconstructible(path="s3files.contrib.django.storage.S3FilesStorage")
class S3FilesStorage(Storage):
    """User files on the app's bucket, under ``location``, validated and named by the core.

    ``querystring_auth`` (default True): ``url()`` is a presigned GET valid for
    ``querystring_expire`` seconds; False: the public URL (readable once a bucket policy
    allows it), on ``custom_domain`` (a CDN's host) when given. ``max_upload_size``,
    ``allowed_extensions`` and ``allowed_mime_types`` narrow (or widen) the app's
    ``S3FILES_*`` limits for this storage alone.
    """

    preserve_names = False

    def __init__(
        self,
        *,
        location: str = "",
        querystring_auth: bool = True,
        querystring_expire: int = 3600,
        custom_domain: str | None = None,
        max_upload_size: int | None = _UNSET,
        allowed_extensions: Iterable[str] | None = _UNSET,
        allowed_mime_types: Iterable[str] | None = _UNSET,
    ) -> None:
        if not 1 <= querystring_expire <= 7 * 24 * 3600:
            raise ConfigurationError("querystring_expire must be 1 second .. 7 days")
        self.location = sanitize_folder(location)
        self.querystring_auth = querystring_auth
        self.querystring_expire = querystring_expire
        self.custom_domain = (custom_domain or "").strip().rstrip("/") or None
        self._overrides: dict[str, Any] = {}
        if max_upload_size is not _UNSET:
            self._overrides["max_upload_size"] = max_upload_size
        for name, value in (
            ("allowed_extensions", allowed_extensions),
            ("allowed_mime_types", allowed_mime_types),
        ):
            if value is not _UNSET:
                self._overrides[name] = (
                    None
                    if value is None
                    else frozenset(str(v).strip().lower().lstrip(".") for v in value)
                )
        self._files: FileStore | None = None
        self._generation = -1

    # The store ---------------------------------------------------------------------

    @property
    def files(self) -> FileStore:
        """The ``FileStore`` of the current settings (looked up again after a change)."""
        generation = store_generation()
        files = self._files
        if files is None or self._generation != generation:
            shared = file_store_for(load_config())
            files = shared
            if self._overrides:
                config = replace(load_config(), **self._overrides)
                files = FileStore(
                    shared.store,  # one connection pool per bucket, not per storage
                    policy=config.upload_policy(),
                    naming=shared.naming,
                    upload_url_expiry=shared.upload_url_expiry,
                )
            self._files, self._generation = files, generation
        return files

    def key_for(self, name: str) -> str:
        """The object key of a storage name (``location`` + name)."""
        name = str(name).replace("\\", "/").lstrip("/")
        return f"{self.location}/{name}" if self.location else name

    def name_for(self, key: str) -> str:
        """The storage name of an object key under ``location``; ``SuspiciousFileOperation``
        for a key elsewhere."""
        if not self.location:
            return key
        if not key.startswith(self.location + "/"):
            raise SuspiciousFileOperation(f"{key!r} is not under this storage's {self.location!r}")
        return key[len(self.location) + 1 :]

    # Names -------------------------------------------------------------------------

    def get_valid_name(self, name: str) -> str:
        return sanitize_filename(name)

    def generate_filename(self, filename: str) -> str:
        """``upload_to`` folder (cleaned) + the cleaned name; the key is chosen at save."""
        folder, _, name = str(filename).replace("\\", "/").rpartition("/")
        folder = sanitize_folder(folder)
        name = self.get_valid_name(name)
        return f"{folder}/{name}" if folder else name

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        """The name to store under: built by the naming policy from ``name``'s folder and
        extension (unique: a uuid), never ``name`` itself."""
        folder, _, filename = str(name).replace("\\", "/").rpartition("/")
        chosen = build_key(filename, policy=self.files.naming, folder=folder)
        return self._fit(chosen, max_length)

    @staticmethod
    def _fit(name: str, max_length: int | None) -> str:
        if max_length is not None and len(name) > max_length:
            raise SuspiciousFileOperation(
                f"the stored name {name!r} is longer than the field's max_length "
                f"({max_length}): raise max_length or shorten upload_to"
            )
        return name

    # Writing -----------------------------------------------------------------------

    def _save(self, name: str, content: File) -> str:
        """Stream ``content`` through the core's validation to the key of ``name``."""
        original = str(getattr(content, "name", None) or name).replace("\\", "/")
        shown = display_name(posixpath.basename(original) or posixpath.basename(name))
        self.files.upload(
            _chunks(content),
            key=self.key_for(name),
            filename=posixpath.basename(name),  # the extension the key carries is checked
            content_type=getattr(content, "content_type", None),
            content_disposition=content_disposition("attachment", shown),
        )
        return name

    def delete(self, name: str) -> None:
        if not name:
            raise ValueError("the name must be given")
        self.files.delete(self.key_for(name))

    # Reading -----------------------------------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> File:
        if _WRITE_MODES & set(mode):
            raise ValueError("S3FilesStorage opens files read-only; use save() to store one")
        key = self.key_for(name)
        info = self.files.head(key)  # ObjectNotFoundError is a FileNotFoundError
        return StoredObjectFile(self.files, key, name, info.size)

    def exists(self, name: str) -> bool:
        """An object under ``name``, or a folder: keys below ``name/`` (as Django's
        ``collectstatic --clear`` asks of folders)."""
        key = self.key_for(name).rstrip("/")
        if key and self.files.exists(key):
            return True
        prefix = f"{key}/" if key else ""
        return bool(self.files.list(prefix, page_size=1).items)

    def size(self, name: str) -> int:
        return self.files.head(self.key_for(name)).size

    def get_modified_time(self, name: str) -> datetime:
        moment = self.files.head(self.key_for(name)).last_modified
        if moment is None:
            raise InvalidInputError("the store did not say when the object changed")
        if django_settings.USE_TZ:
            return moment
        return timezone.make_naive(moment)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        """(folders, files) directly under ``path``, from a listing of the keys below it."""
        base = self.key_for(path).rstrip("/") if path else self.location
        prefix = f"{base}/" if base else ""
        folders: dict[str, None] = {}
        names: list[str] = []
        for info in self.files.iter_objects(prefix):
            rest = info.key[len(prefix) :]
            if not rest or (not prefix and info.key.startswith(STAGING_PREFIX)):
                continue
            head, slash, _ = rest.partition("/")
            if slash:
                folders.setdefault(head)
            else:
                names.append(head)
        return list(folders), names

    def url(self, name: str) -> str:
        """A presigned GET (or the public URL): computed here, no request to the store."""
        key = self.key_for(name)
        if self.custom_domain is not None:
            return f"https://{self.custom_domain}/{quote_key(validate_key(key))}"
        if not self.querystring_auth:
            return self.files.public_url(key)
        return self.files.presign_download(key, expires_in=self.querystring_expire).url


@deconstructible(path="s3files.contrib.django.storage.S3FilesStaticStorage")
class S3FilesStaticStorage(S3FilesStorage):
    """The project's static files (``collectstatic``): names kept, files replaced, the
    content type taken from the extension (``.css`` is ``text/css``, ``.js``
    ``text/javascript``), no upload policy. Never give it files from users."""

    preserve_names = True

    def generate_filename(self, filename: str) -> str:
        return validate_key(str(filename).replace("\\", "/").lstrip("/"))

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return self._fit(validate_key(str(name).replace("\\", "/").lstrip("/")), max_length)

    def _save(self, name: str, content: File) -> str:
        key = validate_key(self.key_for(name))
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if content_type == "application/javascript":  # RFC 9239's name for it
            content_type = "text/javascript"
        writer = self.files.store.open_writer(key, PutOptions(content_type=content_type))
        try:
            for chunk in _chunks(content):
                writer.write(chunk)
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        return name


def _chunks(content: Any) -> Iterator[bytes]:
    """The content's bytes from its start, in chunks (Django's ``File.chunks`` rewinds)."""
    if hasattr(content, "chunks"):
        for chunk in content.chunks():
            yield chunk if isinstance(chunk, bytes) else str(chunk).encode()
        return
    while chunk := content.read(64 * 1024):
        yield chunk if isinstance(chunk, bytes) else chunk.encode()
