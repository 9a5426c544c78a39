"""Who is calling: an s3files API key, or a bearer JWT from an existing identity provider.

``Authorization: Bearer s3f_…`` is looked up by its SHA-256 hash; any other bearer token is
treated as a JWT when ``S3FILES_JWT_SECRET`` (HS256) or ``S3FILES_JWT_JWKS_URL`` is set, and
its ``sub`` claim is the owner.

Authentication is finished before the endpoint runs: it never holds a pooled connection
(on PostgreSQL, an idle transaction) while a body streams. A key that was found is
remembered for ``KEY_CACHE_SECONDS`` (5 s), so a busy client costs one query per 5 s, not
one per request; a revoked key is therefore refused within 5 s (plus the one lookup in
flight) on every replica (each re-reads the database when its entry expires).

The lookup is one read outside a transaction (``state.reads``, when the app gives it one:
``server/db/reads.py``); only when the key's ``last_used_at`` is older than 5 minutes is
it written, in a short transaction of its own. Requests with the same key that miss the
cache together share one lookup: 500 uploads arriving at once with 8 keys made 500
lookups, each a unit of work on the event loop, before this; now 8.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from anyio import to_thread
from sqlalchemy import bindparam, select, update

from s3files.server.api_error import ApiError
from s3files.server.db.models import ApiKey, utcnow
from s3files.server.db.session import Sessions, unit_of_work
from s3files.server.keys.repository import ApiKeyRepository
from s3files.server.keys.service import KEY_PREFIX, hash_secret
from s3files.server.settings import ServiceSettings

if TYPE_CHECKING:
    from s3files.server.db.reads import Reads

__all__ = ["Authenticator", "Principal"]

_TOUCH_EVERY = timedelta(minutes=5)
KEY_CACHE_SECONDS = 5.0
_KEY_CACHE_ENTRIES = 10_000
_ACTIVE_KEY = select(ApiKey.__table__).where(
    ApiKey.__table__.c.secret_hash == bindparam("digest"), ApiKey.__table__.c.revoked_at.is_(None)
)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    owner: str
    is_admin: bool = False


def unauthorized(detail: str) -> ApiError:
    return ApiError(401, "unauthorized", detail, {"WWW-Authenticate": "Bearer"})


class Authenticator:
    def __init__(self, settings: ServiceSettings) -> None:
        self._secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        self._jwks: Any = None
        if settings.jwt_jwks_url:
            import jwt  # loaded only where JWTs are accepted

            self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url)
        self._audience = settings.jwt_audience
        self._issuer = settings.jwt_issuer
        self._keys: dict[str, tuple[float, Principal]] = {}  # hash -> (valid until, who)
        self._lookups: dict[str, asyncio.Future[Principal]] = {}  # hash -> the one in flight
        self.reads: Reads | None = None  # set by the app: lookups outside a transaction

    async def authenticate(self, sessions: Sessions, authorization: str | None) -> Principal:
        """The caller of ``authorization`` (``Bearer <key or JWT>``), or 401."""
        if not authorization:
            raise unauthorized("missing Authorization: Bearer <key>")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise unauthorized("use Authorization: Bearer <key>")
        if token.startswith(KEY_PREFIX):
            return await self._api_key(sessions, token)
        if self._secret or self._jwks:
            return await self._jwt(token)
        raise unauthorized("invalid API key")

    async def _api_key(self, sessions: Sessions, token: str) -> Principal:
        digest = hash_secret(token)
        cached = self._keys.get(digest)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        lookup = self._lookups.get(digest)
        if lookup is None:  # the first to miss looks it up; the others wait for it
            lookup = asyncio.ensure_future(self._look_up(sessions, digest))
            self._lookups[digest] = lookup
            lookup.add_done_callback(lambda done: self._finished(digest, done))
        return await asyncio.shield(lookup)  # a waiter that goes away leaves it running

    def _finished(self, digest: str, lookup: asyncio.Future[Principal]) -> None:
        if self._lookups.get(digest) is lookup:
            del self._lookups[digest]
        if not lookup.cancelled():
            lookup.exception()  # retrieved: no warning when every waiter went away

    async def _look_up(self, sessions: Sessions, digest: str) -> Principal:
        if self.reads is not None:
            record = await self.reads.one_or_none(ApiKey, _ACTIVE_KEY, {"digest": digest})
        else:
            async with unit_of_work(sessions) as session:
                record = await ApiKeyRepository(session).find_active_by_hash(digest)
        if record is None:
            self._keys.pop(digest, None)
            raise unauthorized("invalid or revoked API key")
        now = utcnow()
        last = record.last_used_at
        if last is not None and last.tzinfo is None:  # SQLite returns naive UTC
            last = last.replace(tzinfo=now.tzinfo)
        if last is None or now - last > _TOUCH_EVERY:
            async with unit_of_work(sessions) as session:
                await session.execute(
                    update(ApiKey).where(ApiKey.id == record.id).values(last_used_at=now)
                )
        principal = Principal(owner=record.owner, is_admin=record.is_admin)
        if len(self._keys) >= _KEY_CACHE_ENTRIES:
            self._keys.clear()
        self._keys[digest] = (time.monotonic() + KEY_CACHE_SECONDS, principal)
        return principal

    async def _jwt(self, token: str) -> Principal:
        import jwt

        options: Any = {"require": ["sub", "exp"]}
        try:
            if self._jwks is not None:
                signing_key = await to_thread.run_sync(self._jwks.get_signing_key_from_jwt, token)
                key: Any = signing_key.key
                algorithms = ["RS256", "ES256", "PS256", "EdDSA"]
            else:
                key, algorithms = self._secret, ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options=options,
            )
        except jwt.PyJWTError as exc:
            raise unauthorized(f"invalid token: {exc}") from None
        subject = str(claims.get("sub") or "")
        if not subject or len(subject) > 255:
            raise unauthorized("token has no usable sub claim")
        return Principal(owner=subject, is_admin=False)
