"""Credentials in brief 002's dict shape, and the botocore clients built from them.

Building a boto3 session and clients reads config files and is CPU-heavy (tens of
milliseconds), so :func:`open_clients` is blocking and the connector runs it on a worker
thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import urlsplit

import boto3
import botocore.exceptions
from botocore.config import Config

from s3files._config import Settings
from s3files._errors import ConfigurationError, InvalidInputError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

__all__ = ["CREDENTIAL_KEYS", "Clients", "ConnectionOptions", "credentials_from_settings"]

#: The keys ``connect(credentials)`` understands: brief 002's four plus three for
#: S3-compatible stores and profiles.
CREDENTIAL_KEYS = frozenset(
    {
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "region_name",
        "endpoint_url",
        "profile_name",
        "addressing_style",
    }
)
DEFAULT_REGION = "us-east-1"
AddressingStyle = Literal["auto", "path", "virtual"]


def _text(credentials: Mapping[str, Any], name: str) -> str | None:
    value = credentials.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"credentials[{name!r}] must be a string", reason="invalid_input")
    return value


@dataclass(frozen=True, slots=True)
class ConnectionOptions:
    """Parsed ``credentials``; secrets are kept out of ``repr``."""

    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None
    addressing_style: AddressingStyle = "auto"

    @classmethod
    def parse(cls, credentials: Mapping[str, Any] | None) -> ConnectionOptions:
        """Check brief 002's dict; ``None`` or ``{}`` means the default AWS chain
        (environment, shared config/profile, container or instance role)."""
        credentials = credentials or {}
        if not isinstance(credentials, Mapping):
            raise InvalidInputError("credentials must be a dict", reason="invalid_input")
        unknown = sorted(set(credentials) - CREDENTIAL_KEYS)
        if unknown:
            raise InvalidInputError(
                f"unknown credential keys {unknown}; expected some of {sorted(CREDENTIAL_KEYS)}",
                reason="invalid_input",
            )
        access_key = _text(credentials, "aws_access_key_id")
        secret_key = _text(credentials, "aws_secret_access_key")
        if (access_key is None) != (secret_key is None):
            raise InvalidInputError(
                "give both aws_access_key_id and aws_secret_access_key, or neither "
                "(to use the default AWS credential chain)",
                reason="invalid_input",
            )
        endpoint_url = _text(credentials, "endpoint_url")
        if endpoint_url is not None:
            parts = urlsplit(endpoint_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise InvalidInputError(
                    f"endpoint_url {endpoint_url!r} is not an http(s) URL", reason="invalid_input"
                )
            endpoint_url = endpoint_url.rstrip("/")
        style = _text(credentials, "addressing_style") or "auto"
        if style not in ("auto", "path", "virtual"):
            raise InvalidInputError(
                "addressing_style must be 'auto', 'path' or 'virtual'", reason="invalid_input"
            )
        return cls(
            access_key=access_key,
            secret_key=secret_key,
            session_token=_text(credentials, "aws_session_token"),
            region=_text(credentials, "region_name"),
            endpoint_url=endpoint_url,
            profile=_text(credentials, "profile_name"),
            addressing_style=cast(AddressingStyle, style),
        )


def credentials_from_settings(settings: Settings) -> dict[str, str]:
    """The ``connect()`` dict for the S3 server ``settings`` name (the same credentials,
    endpoint and region as the service's store); keys left unset fall back to the AWS
    chain."""
    credentials: dict[str, str] = {"region_name": settings.region}
    if settings.aws_access_key_id and settings.aws_secret_access_key:
        credentials["aws_access_key_id"] = settings.aws_access_key_id
        credentials["aws_secret_access_key"] = settings.aws_secret_access_key.get_secret_value()
        if settings.aws_session_token:
            credentials["aws_session_token"] = settings.aws_session_token.get_secret_value()
    elif settings.aws_profile:
        credentials["profile_name"] = settings.aws_profile
    if settings.s3_endpoint_url:
        credentials["endpoint_url"] = settings.s3_endpoint_url
    credentials["addressing_style"] = settings.s3_addressing_style
    return credentials


@dataclass(slots=True)
class Clients:
    """An S3 client and an STS client sharing one session and one region."""

    s3: S3Client
    sts: Any  # STS stubs are not a dependency; only get_caller_identity is called
    region: str
    endpoint_url: str | None

    @classmethod
    def open(
        cls,
        options: ConnectionOptions,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_pool_connections: int,
    ) -> Clients:
        """Blocking: build the session and both clients."""
        try:
            session = boto3.session.Session(
                aws_access_key_id=options.access_key,
                aws_secret_access_key=options.secret_key,
                aws_session_token=options.session_token,
                region_name=options.region,
                profile_name=options.profile,
            )
        except botocore.exceptions.ProfileNotFound as exc:
            raise ConfigurationError(f"AWS profile {options.profile!r} not found") from exc
        region = options.region or session.region_name or DEFAULT_REGION
        style = options.addressing_style
        if style == "auto" and options.endpoint_url:
            style = "path"  # no wildcard DNS in front of most S3-compatible servers
        # On AWS botocore's own "auto" chooses per bucket (path style for dotted names,
        # whose virtual-host names the TLS certificate does not cover).
        # Same request shape as S3Store; botocore's retries are off (one attempt in all)
        # because the connector retries with its own backoff and rate limit.
        common: dict[str, Any] = {
            "signature_version": "s3v4",
            "retries": {"total_max_attempts": 1, "mode": "standard"},
            "connect_timeout": connect_timeout,
        }
        s3_config = Config(
            **common,
            s3={"addressing_style": style},
            max_pool_connections=max_pool_connections,
            read_timeout=read_timeout,
            # Checksums on every request (botocore >= 1.36) break S3-compatible servers
            # that predate them (Ceph RGW 16); send them only where S3 requires.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        s3 = session.client(
            "s3", region_name=region, endpoint_url=options.endpoint_url, config=s3_config
        )
        # An S3-compatible server that speaks STS does so on its S3 endpoint (Ceph RGW,
        # MinIO); an AWS S3 endpoint given explicitly does not, AWS's own STS does.
        sts_endpoint = options.endpoint_url
        host = urlsplit(sts_endpoint).hostname or "" if sts_endpoint else ""
        if host.endswith(".amazonaws.com"):
            sts_endpoint = None
        sts = session.client(
            "sts",
            region_name=region,
            endpoint_url=sts_endpoint,
            config=Config(**common, read_timeout=min(read_timeout, 10.0)),
        )
        return cls(s3=s3, sts=sts, region=region, endpoint_url=options.endpoint_url)

    def close(self) -> None:
        self.s3.close()
        self.sts.close()
