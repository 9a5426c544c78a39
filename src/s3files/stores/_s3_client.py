"""The one factory of botocore clients: a session and S3 (and STS) clients from an ``S3Config``.

``S3Store`` and the connector both build their clients here, so every client s3files sends
requests with has the same shape: SigV4, the configured addressing style, checksums only
where S3 requires them (botocore >= 1.36 sends them on every request by default, which
breaks S3-compatible servers that predate them, such as Ceph RGW 16), and retries by the
one ``RetryPolicy`` of ``s3files._retry`` rather than botocore's own backoff.

Building a session reads config files and is CPU-heavy (tens of milliseconds): async code
calls these functions on a worker thread.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
import botocore.exceptions
from botocore.config import Config

from s3files._config import S3Config
from s3files._errors import ConfigurationError
from s3files._retry import RetryPolicy
from s3files.stores._s3_errors import error_for_client_error, error_for_exception

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

__all__ = ["DEFAULT_REGION", "open_session", "region_of", "s3_client", "sts_client"]

DEFAULT_REGION = "us-east-1"
_logger = logging.getLogger("s3files")


def open_session(config: S3Config) -> boto3.session.Session:
    """A boto3 session with the static keys of ``config``, or its profile, or the chain."""
    credentials = config.credentials()
    try:
        return boto3.session.Session(
            aws_access_key_id=credentials.access_key if credentials else None,
            aws_secret_access_key=credentials.secret_key if credentials else None,
            aws_session_token=credentials.session_token if credentials else None,
            region_name=config.region,
            profile_name=config.profile if credentials is None else None,
        )
    except botocore.exceptions.ProfileNotFound as exc:
        raise ConfigurationError(f"AWS_PROFILE: profile {config.profile!r} not found") from exc


def region_of(config: S3Config, session: boto3.session.Session) -> str:
    """The region requests are signed for: the configured one, the profile's, or us-east-1."""
    return config.region or session.region_name or DEFAULT_REGION


def s3_client(
    config: S3Config,
    session: boto3.session.Session,
    *,
    retry: RetryPolicy | None,
    connect_timeout: float = 10.0,
    read_timeout: float = 60.0,
    max_pool_connections: int = 16,
) -> S3Client:
    """An S3 client; ``retry`` retries each request (``None``: one attempt, for a caller
    that retries whole calls itself, as the connector does)."""
    policy = retry or RetryPolicy(max_attempts=1)
    client_config = Config(
        signature_version="s3v4",
        s3={"addressing_style": config.resolved_addressing_style()},
        retries=policy.botocore_retries(),
        max_pool_connections=max_pool_connections,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    client: S3Client = session.client(
        "s3",
        region_name=region_of(config, session),
        endpoint_url=config.endpoint_url,
        config=client_config,
    )
    if retry is not None and retry.max_attempts > 1:
        _install_retries(client, retry)
    return client


def sts_client(
    config: S3Config,
    session: boto3.session.Session,
    *,
    connect_timeout: float = 10.0,
    read_timeout: float = 10.0,
) -> Any:
    """An STS client (only GetCallerIdentity is called; its stubs are no dependency).

    An S3-compatible server that speaks STS does so on its S3 endpoint (Ceph RGW, MinIO);
    an AWS S3 endpoint given explicitly does not, AWS's own STS does."""
    endpoint = config.endpoint_url
    host = urlsplit(endpoint).hostname or "" if endpoint else ""
    if host.endswith(".amazonaws.com"):
        endpoint = None
    return session.client(
        "sts",
        region_name=region_of(config, session),
        endpoint_url=endpoint,
        config=Config(
            signature_version="s3v4",
            retries=RetryPolicy(max_attempts=1).botocore_retries(),
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        ),
    )


def _install_retries(client: S3Client, policy: RetryPolicy) -> None:
    """Retry through ``policy`` where botocore would retry with its own backoff: botocore
    asks ``needs-retry`` handlers after each attempt and sleeps for the delay one returns."""

    def needs_retry(
        response: Any,
        attempts: int,
        caught_exception: BaseException | None,
        operation: Any,
        **_: Any,
    ) -> float | None:
        if caught_exception is not None:
            error = error_for_exception(caught_exception, None, None)
        elif response is not None and response[0].status_code >= 300:
            error = error_for_client_error(
                botocore.exceptions.ClientError(response[1], operation.name), None, None
            )
        else:
            return None
        if error is None or not policy.should_retry(error, attempts):
            return None
        delay = policy.delay(attempts - 1)
        _logger.info(
            "%s failed, retrying in %.3fs (attempt %d of %d): %s",
            operation.name,
            delay,
            attempts,
            policy.max_attempts,
            error,
        )
        return delay

    # botocore's stubs type handlers as returning None; needs-retry handlers return a delay
    client.meta.events.register("needs-retry.s3", needs_retry)  # type: ignore[arg-type]
