"""A host FastAPI app with its own users and JWT login that includes the s3files router.

    EXAMPLE_USERS="alice:wonderland,bob:builder" EXAMPLE_JWT_SECRET=change-me \\
    S3FILES_STORAGE_URL=file:///tmp/example-files S3FILES_PUBLIC_URL=http://127.0.0.1:8000/api/v1 \\
    uvicorn main:app --app-dir examples/fastapi

Its users are its own (``EXAMPLE_USERS``, passwords kept as scrypt hashes); a login gives
a JWT signed with ``EXAMPLE_JWT_SECRET``; its ``get_current_user`` decides who calls. The
files API is s3files' (``files_router``) under the app's ``/api/v1`` prefix, with the
app's users as the owners of the files; s3files' database and store are opened by
``s3files_lifespan`` inside the app's own lifespan (configured by the ``S3FILES_*`` and
``S3_*`` variables, as ``s3files serve`` is).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel

from s3files.contrib.fastapi import files_router, s3files_lifespan

API_V1_PREFIX = "/api/v1"
TOKEN_MINUTES = 30


@dataclass(frozen=True)
class User:
    username: str
    password_salt: bytes
    password_hash: bytes


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)


def _load_users(spec: str) -> dict[str, User]:
    """``name:password,name:password`` → users with hashed passwords."""
    users = {}
    for entry in filter(None, (item.strip() for item in spec.split(","))):
        name, _, password = entry.partition(":")
        salt = secrets.token_bytes(16)
        users[name] = User(name, salt, _hash(password, salt))
    return users


USERS = _load_users(os.environ.get("EXAMPLE_USERS", ""))
JWT_SECRET = os.environ.get("EXAMPLE_JWT_SECRET") or secrets.token_urlsafe(32)

oauth2 = OAuth2PasswordBearer(tokenUrl=f"{API_V1_PREFIX}/login/access-token")


async def get_current_user(token: Annotated[str, Depends(oauth2)]) -> User:
    """The host's own authentication: its JWT, its users."""
    unauthorized = HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "could not validate credentials",
        {"WWW-Authenticate": "Bearer"},
    )
    try:
        claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"])
    except jwt.PyJWTError:
        raise unauthorized from None
    user = USERS.get(str(claims.get("sub")))
    if user is None:
        raise unauthorized
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def current_owner(user: CurrentUser) -> str:
    """Who owns the files s3files stores for a request: the host's user."""
    return user.username


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with s3files_lifespan(app):  # s3files' database and store, beside the app's own
        yield


app = FastAPI(title="Example host app", lifespan=lifespan)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)


@app.post(f"{API_V1_PREFIX}/login/access-token", response_model=Token, tags=["login"])
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    user = USERS.get(form.username)
    if user is None or not hmac.compare_digest(
        user.password_hash, _hash(form.password, user.password_salt)
    ):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "incorrect username or password")
    expires = datetime.now(UTC) + timedelta(minutes=TOKEN_MINUTES)
    token = jwt.encode({"sub": user.username, "exp": expires}, JWT_SECRET, algorithm="HS256")
    return Token(access_token=token)


@app.get(f"{API_V1_PREFIX}/users/me", tags=["users"])
async def read_me(user: CurrentUser) -> dict[str, str]:
    return {"username": user.username}


app.include_router(files_router(current_owner), prefix=API_V1_PREFIX)
