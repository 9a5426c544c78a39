"""Signatures without I/O: SigV4 presigned URLs and POST policies for S3, HMAC tokens for
URLs that the s3files service serves for the local-disk store and for its own short-lived
links (``LocalURLSigner.sign_token``: zip downloads).

The SigV4 signer derives its signing key once per day and region and caches it, so a
presigned URL costs a few HMACs and string joins; ``bench_presign`` in
``bench/bench_library.py`` compares it with botocore's ``generate_presigned_url``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

from s3files._errors import ExpiredSignatureError, InvalidSignatureError

__all__ = [
    "Credentials",
    "LocalURLSigner",
    "presign_post_policy",
    "presign_url",
    "quote_key",
]

MAX_PRESIGN_EXPIRY = 7 * 24 * 3600  # SigV4's own upper bound
_ALGORITHM = "AWS4-HMAC-SHA256"
_SPACES = re.compile(" +")


@dataclass(frozen=True, slots=True)
class Credentials:
    """A frozen set of S3 credentials. ``repr`` never shows the secret."""

    access_key: str
    secret_key: str
    session_token: str | None = None

    def __repr__(self) -> str:
        return f"Credentials(access_key={self.access_key!r}, secret_key='***')"


def _quote(value: str) -> str:
    return quote(value, safe="-_.~")


def quote_key(key: str) -> str:
    """A key as it appears in a URL path (``/`` kept, everything else RFC 3986 encoded)."""
    return quote(key, safe="/-_.~")


@lru_cache(maxsize=64)
def _signing_key(secret_key: str, datestamp: str, region: str) -> bytes:
    key = hmac.new(f"AWS4{secret_key}".encode(), datestamp.encode(), hashlib.sha256).digest()
    for part in (region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


@lru_cache(maxsize=1024)
def _canonical_query(params: tuple[tuple[str, str], ...]) -> str:
    """The sorted, encoded query string: the URLs signed within one second with the same
    credentials and expiry share it (a page of thumbnails), so it is encoded once."""
    return "&".join(f"{k}={v}" for k, v in sorted((_quote(k), _quote(v)) for k, v in params))


def presign_url(
    *,
    method: str,
    origin: str,
    path: str,
    host: str,
    credentials: Credentials,
    region: str,
    expires_in: int,
    now: datetime | None = None,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> str:
    """A SigV4 query-string presigned URL.

    ``origin`` is ``scheme://host[:port]``, ``path`` the already-encoded path (see
    ``quote_key``), ``host`` the Host header value, ``headers`` extra headers the client must
    send with exactly these values (for example ``content-type`` on a PUT).
    """
    if not 1 <= expires_in <= MAX_PRESIGN_EXPIRY:
        raise ValueError(f"expires_in must be between 1 and {MAX_PRESIGN_EXPIRY} seconds")
    moment = now or datetime.now(UTC)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    datestamp = amz_date[:8]
    scope = f"{datestamp}/{region}/s3/aws4_request"
    signed = {"host": host}
    for name, value in (headers or {}).items():
        signed[name.lower()] = _SPACES.sub(" ", value.strip())  # SigV4's "trimall"
    signed_names = ";".join(sorted(signed))
    params = dict(query or {})
    params["X-Amz-Algorithm"] = _ALGORITHM
    params["X-Amz-Credential"] = f"{credentials.access_key}/{scope}"
    params["X-Amz-Date"] = amz_date
    params["X-Amz-Expires"] = str(expires_in)
    params["X-Amz-SignedHeaders"] = signed_names
    if credentials.session_token:
        params["X-Amz-Security-Token"] = credentials.session_token
    canonical_query = _canonical_query(tuple(params.items()))
    canonical_headers = "".join(f"{name}:{signed[name]}\n" for name in sorted(signed))
    canonical_request = (
        f"{method}\n{path}\n{canonical_query}\n{canonical_headers}\n{signed_names}\n"
        "UNSIGNED-PAYLOAD"
    )
    string_to_sign = (
        f"{_ALGORITHM}\n{amz_date}\n{scope}\n"
        + hashlib.sha256(canonical_request.encode()).hexdigest()
    )
    signature = hmac.digest(  # one-shot, in C
        _signing_key(credentials.secret_key, datestamp, region), string_to_sign.encode(), "sha256"
    ).hex()
    return f"{origin}{path}?{canonical_query}&X-Amz-Signature={signature}"


def presign_post_policy(
    *,
    bucket: str,
    key: str,
    credentials: Credentials,
    region: str,
    expires_in: int,
    conditions: list[Any],
    fields: Mapping[str, str],
    now: datetime | None = None,
) -> dict[str, str]:
    """Form fields for a browser POST upload whose policy binds ``key`` exactly.

    ``fields`` are extra form fields (each becomes an exact-match condition), ``conditions``
    extra policy conditions such as ``["content-length-range", 1, 1048576]``.
    """
    moment = now or datetime.now(UTC)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    datestamp = amz_date[:8]
    credential = f"{credentials.access_key}/{datestamp}/{region}/s3/aws4_request"
    form: dict[str, str] = {"key": key, **fields}
    form["x-amz-algorithm"] = _ALGORITHM
    form["x-amz-credential"] = credential
    form["x-amz-date"] = amz_date
    if credentials.session_token:
        form["x-amz-security-token"] = credentials.session_token
    expiration = (moment + timedelta(seconds=expires_in)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    policy_conditions: list[Any] = [{"bucket": bucket}]
    policy_conditions += [{name: value} for name, value in form.items()]
    policy_conditions += conditions
    policy = {"expiration": expiration, "conditions": policy_conditions}
    encoded = base64.b64encode(json.dumps(policy, separators=(",", ":")).encode()).decode()
    form["policy"] = encoded
    form["x-amz-signature"] = hmac.new(
        _signing_key(credentials.secret_key, datestamp, region), encoded.encode(), hashlib.sha256
    ).hexdigest()
    return form


class LocalURLSigner:
    """HMAC-SHA256 tokens for URLs that the s3files service serves for the local store.

    A token binds the method, the key, the expiry and the response parameters; the service
    verifies it with ``verify`` and refuses forged or expired ones.
    """

    SIGNED_PARAMS = (
        "content-type",
        "response-content-disposition",
        "response-content-type",
        "uploadId",
        "partNumber",
    )

    def __init__(self, secret: bytes, base_url: str, path_prefix: str = "/store/") -> None:
        if len(secret) < 16:
            raise ValueError("the local signing secret must be at least 16 bytes")
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self.path_prefix = path_prefix

    def _signature(self, method: str, key: str, expires: int, params: Mapping[str, str]) -> str:
        payload = "\n".join(
            [method.upper(), key, str(expires)]
            + [f"{name}={params[name]}" for name in sorted(params)]
        )
        digest = hmac.new(self._secret, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def sign(
        self,
        method: str,
        key: str,
        *,
        expires_in: int,
        params: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> tuple[str, datetime]:
        """A signed URL and its expiry time."""
        unknown = set(params or {}) - set(self.SIGNED_PARAMS)
        if unknown:
            raise ValueError(f"cannot sign parameters {sorted(unknown)}")
        expires_at = (now or datetime.now(UTC)) + timedelta(seconds=expires_in)
        expires = int(expires_at.timestamp())
        clean = {k: v for k, v in (params or {}).items() if v}
        query = {
            **clean,
            "expires": str(expires),
            "signature": self._signature(method, key, expires, clean),
        }
        url = (
            f"{self.base_url}{self.path_prefix}{quote_key(key)}?{urlencode(query, quote_via=quote)}"
        )
        return url, expires_at

    def sign_policy(self, policy: Mapping[str, Any]) -> tuple[str, str]:
        """A form-upload policy (JSON, base64) and its signature."""
        encoded = base64.urlsafe_b64encode(json.dumps(dict(policy), sort_keys=True).encode())
        text = encoded.decode()
        digest = hmac.new(self._secret, b"policy\n" + encoded, hashlib.sha256).digest()
        return text, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def verify_policy(
        self, encoded: str, signature: str, *, now: datetime | None = None
    ) -> dict[str, Any]:
        """The policy behind a signed form, or raise if forged or expired."""
        digest = hmac.new(self._secret, b"policy\n" + encoded.encode(), hashlib.sha256).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if not hmac.compare_digest(expected, signature):
            raise InvalidSignatureError("upload policy signature does not match")
        try:
            policy: dict[str, Any] = json.loads(base64.urlsafe_b64decode(encoded.encode()))
            expires = float(policy["expires"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidSignatureError("malformed upload policy") from exc
        if (now or datetime.now(UTC)).timestamp() > expires:
            raise ExpiredSignatureError("upload policy has expired")
        return policy

    def _token_digest(self, purpose: str, encoded: str) -> str:
        payload = f"token\n{purpose}\n{encoded}".encode()
        digest = hmac.new(self._secret, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def sign_token(
        self,
        purpose: str,
        claims: Mapping[str, Any],
        *,
        expires_in: int,
        now: datetime | None = None,
    ) -> tuple[str, datetime]:
        """A URL-safe token carrying ``claims`` (JSON) for one ``purpose`` until it
        expires, and the expiry time; ``verify_token`` gives the claims back. A token of
        one purpose is never valid for another, nor as a URL signature or a policy."""
        expires_at = (now or datetime.now(UTC)) + timedelta(seconds=expires_in)
        body = {**claims, "exp": int(expires_at.timestamp())}
        encoded = base64.urlsafe_b64encode(
            json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        )
        text = encoded.rstrip(b"=").decode()
        return f"{text}.{self._token_digest(purpose, text)}", expires_at

    def verify_token(
        self, purpose: str, token: str, *, now: datetime | None = None
    ) -> dict[str, Any]:
        """The claims of a token made by ``sign_token`` for ``purpose``, or raise
        ``InvalidSignatureError`` (forged, altered, another purpose) or
        ``ExpiredSignatureError``."""
        text, dot, signature = token.partition(".")
        if not dot or not hmac.compare_digest(self._token_digest(purpose, text), signature):
            raise InvalidSignatureError("the link's signature does not match")
        try:
            padded = text + "=" * (-len(text) % 4)
            claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
            expires = int(claims.pop("exp"))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidSignatureError("malformed link") from exc
        if (now or datetime.now(UTC)).timestamp() > expires:
            raise ExpiredSignatureError("the link has expired; ask for a new one")
        return claims

    def verify(
        self, method: str, key: str, query: Mapping[str, str], *, now: datetime | None = None
    ) -> dict[str, str]:
        """Check a signed request; return its signed parameters or raise."""
        try:
            expires = int(query["expires"])
            given = query["signature"]
        except (KeyError, ValueError) as exc:
            raise InvalidSignatureError("missing or malformed signature", key=key) from exc
        params = {k: query[k] for k in self.SIGNED_PARAMS if query.get(k)}
        expected = self._signature(method, key, expires, params)
        if not hmac.compare_digest(expected, given):
            raise InvalidSignatureError("signature does not match", key=key)
        if (now or datetime.now(UTC)).timestamp() > expires:
            raise ExpiredSignatureError("signed URL has expired", key=key)
        return params
