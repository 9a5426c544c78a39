"""Dependencies as ``Annotated`` aliases: ``StateDep``, ``PrincipalDep``, ``SessionDep``.

One unit-of-work pattern (written out in ``s3files.server.db.session``): services open
short ``unit_of_work(state.sessions)`` blocks around their database work and never commit
outside one; no session is open while bytes move to or from the store or the client.

- ``PrincipalDep`` authenticates in a transaction of its own, finished before the
  endpoint runs (see ``s3files.server.auth``): a caller holds no pooled connection while
  its upload streams.
- ``SessionDep`` is a session for the length of the endpoint, committed when it returns.
  Only for an endpoint that does database work and nothing else (no store call, no
  reading of the body); the files API does not use it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from s3files.server.auth import Principal
from s3files.server.db.session import AsyncSession, unit_of_work
from s3files.server.state import AppState

__all__ = ["OptionalPrincipalDep", "PrincipalDep", "SessionDep", "StateDep"]

bearer = HTTPBearer(
    auto_error=False,
    description="An s3files API key (`s3files keys create --owner NAME`) or, when configured, "
    "a JWT from your identity provider.",
)


async def app_state(request: Request) -> AppState:
    """The app's state (``async``: FastAPI would run a plain function on a worker thread,
    a thread hop on every request)."""
    state: AppState = request.app.state.s3files
    return state


StateDep = Annotated[AppState, Depends(app_state)]


async def db_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    """A unit of work as long as the endpoint (scope="function": committed before the
    response is sent)."""
    async with unit_of_work(state.sessions) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(db_session, scope="function")]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _header(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return f"{credentials.scheme} {credentials.credentials}" if credentials else None


# The principal dependencies take the Request, not ``StateDep``: a nested dependency costs
# FastAPI more to solve on every request than reading the attribute.


async def current_principal(request: Request, credentials: Credentials) -> Principal:
    state: AppState = request.app.state.s3files
    return await state.authenticator.authenticate(state.sessions, _header(credentials))


async def optional_principal(request: Request, credentials: Credentials) -> Principal | None:
    if credentials is None:
        return None
    state: AppState = request.app.state.s3files
    return await state.authenticator.authenticate(state.sessions, _header(credentials))


PrincipalDep = Annotated[Principal, Depends(current_principal)]
OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]
