"""Where one bucket's objects are, as URLs and keys, and the credentials that sign for it.

Shared by the S3 store and its helpers (direct uploads, the fast PUT) so that none of them
reaches into another's private members: each is handed an ``S3Location`` and a
``CredentialSource``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from s3files._config import AddressingStyle
from s3files._errors import InvalidCredentialsError
from s3files.signing import Credentials, quote_key

if TYPE_CHECKING:
    import boto3

__all__ = ["CredentialSource", "S3Location"]


@dataclass(frozen=True, slots=True)
class S3Location:
    """A bucket (and key prefix) on one endpoint: the URL of each object, and the keys."""

    bucket: str
    prefix: str
    region: str
    addressing_style: AddressingStyle  # "path" or "virtual"
    origin: str  # scheme://host of every URL
    host: str  # the Host header that is signed
    path_base: str  # the URL path before a key ("/" or "/bucket/")

    @classmethod
    def of(
        cls,
        bucket: str,
        *,
        prefix: str,
        region: str,
        endpoint_url: str | None,
        addressing_style: AddressingStyle,
    ) -> S3Location:
        if endpoint_url:
            parts = urlsplit(endpoint_url)
            scheme, host, base = parts.scheme, parts.netloc, parts.path.rstrip("/")
        else:
            scheme, host, base = "https", f"s3.{region}.amazonaws.com", ""
        if addressing_style == "virtual":
            host = f"{bucket}.{host}"
            path_base = f"{base}/"
        else:
            path_base = f"{base}/{quote_key(bucket)}/"
        return cls(
            bucket,
            prefix.strip("/"),
            region,
            addressing_style,
            f"{scheme}://{host}",
            host,
            path_base,
        )

    def full_key(self, key: str) -> str:
        """The key in the bucket for a key relative to the prefix."""
        return f"{self.prefix}/{key}" if self.prefix else key

    def relative_key(self, full_key: str) -> str:
        return full_key[len(self.prefix) + 1 :] if self.prefix else full_key

    def list_prefix(self, prefix: str = "") -> str:
        """The ListObjects/ListMultipartUploads prefix for a relative ``prefix``."""
        if prefix:
            return self.full_key(prefix)
        return f"{self.prefix}/" if self.prefix else ""

    def object_path(self, full_key: str) -> str:
        """The URL path of an object (what SigV4 signs)."""
        return f"{self.path_base}{quote_key(full_key)}"

    def bucket_url(self) -> str:
        """Where a browser POSTs a form upload."""
        url = f"{self.origin}{self.path_base}".rstrip("/")
        return url + "/" if self.addressing_style == "virtual" else url


class CredentialSource:
    """The credentials to sign with now: static ones, or the session's (which refresh, as
    an IAM role's do). Thread-safe."""

    def __init__(self, session: boto3.session.Session, static: Credentials | None) -> None:
        self._session = session
        self._static = static
        self._lock = threading.Lock()

    @property
    def is_static(self) -> bool:
        """True when the credentials were given, so signing needs no I/O."""
        return self._static is not None

    def current(self, bucket: str | None = None) -> Credentials:
        if self._static is not None:
            return self._static
        with self._lock:
            resolved = self._session.get_credentials()
        if resolved is None:
            raise InvalidCredentialsError("no S3 credentials found for presigning", bucket=bucket)
        frozen = resolved.get_frozen_credentials()
        return Credentials(frozen.access_key or "", frozen.secret_key or "", frozen.token)
