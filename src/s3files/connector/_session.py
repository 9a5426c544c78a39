"""The connector's credentials dict (keys named as boto3's arguments), read into the one
``S3Config``, and the botocore clients built from it by the one client factory
(``stores/_s3_client.py``).

Building a boto3 session and clients reads config files and is CPU-heavy (tens of
milliseconds), so :meth:`Clients.open` is blocking and the connector runs it on a worker
thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from s3files._config import S3Config, Settings
from s3files._errors import InvalidInputError
from s3files.stores._s3_client import open_session, region_of, s3_client, sts_client

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

__all__ = ["CREDENTIAL_KEYS", "Clients", "credentials_from_settings", "parse_credentials"]

#: The keys ``connect(credentials)`` understands: boto3's four (``aws_access_key_id``,
#: ``aws_secret_access_key``, ``aws_session_token``, ``region_name``) plus three for
#: S3-compatible stores and profiles (each the connector name of an ``S3Config`` field).
CREDENTIAL_KEYS = frozenset(
    name for field in S3Config.model_fields for name in S3Config.names(field, "connector")
)


def parse_credentials(credentials: Mapping[str, Any] | S3Config | None) -> S3Config:
    """Check a credentials dict (keys named as boto3's arguments); ``None`` or ``{}`` means
    the default AWS chain (environment, shared config/profile, container or instance role).
    Secrets stay out of ``repr``. An ``S3Config`` is taken as it is (its bucket, if any, is
    not used)."""
    if isinstance(credentials, S3Config):
        return credentials.model_copy(update={"bucket": None, "prefix": ""})
    credentials = credentials or {}
    if not isinstance(credentials, Mapping):
        raise InvalidInputError("credentials must be a dict", reason="invalid_input")
    unknown = sorted(set(credentials) - CREDENTIAL_KEYS)
    if unknown:
        raise InvalidInputError(
            f"unknown credential keys {unknown}; expected some of {sorted(CREDENTIAL_KEYS)}",
            reason="invalid_input",
        )
    return S3Config.read(credentials.get, "connector", error=InvalidInputError)


def credentials_from_settings(settings: Settings) -> dict[str, str]:
    """The ``connect()`` dict for the S3 server ``settings`` name (the same credentials,
    endpoint and region as the service's store); keys left unset fall back to the AWS
    chain."""
    return settings.s3_config().connector_credentials()


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
        config: S3Config,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_pool_connections: int,
    ) -> Clients:
        """Blocking: build the session and both clients. botocore's retries are off (one
        attempt per call) because the connector retries whole calls with the same policy
        and counts each retry against its rate limit."""
        session = open_session(config)
        s3 = s3_client(
            config,
            session,
            retry=None,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max_pool_connections,
        )
        sts = sts_client(
            config, session, connect_timeout=connect_timeout, read_timeout=min(read_timeout, 10.0)
        )
        return cls(
            s3=s3, sts=sts, region=region_of(config, session), endpoint_url=config.endpoint_url
        )

    def close(self) -> None:
        self.s3.close()
        self.sts.close()
