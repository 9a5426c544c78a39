"""Dependencies as ``Annotated`` aliases: ``StateDep``, ``SessionDep``, ``PrincipalDep``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from s3files.server.auth import Principal
from s3files.server.db.session import AsyncSession
from s3files.server.state import AppState

__all__ = ["OptionalPrincipalDep", "PrincipalDep", "SessionDep", "StateDep"]

bearer = HTTPBearer(
    auto_error=False,
    description="An s3files API key (`s3files keys create --owner NAME`) or, when configured, "
    "a JWT from your identity provider.",
)


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.s3files
    return state


StateDep = Annotated[AppState, Depends(app_state)]


async def db_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    """One session per request: committed when the endpoint returns, rolled back on error,
    before the response is sent (scope="function")."""
    async with state.sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(db_session, scope="function")]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _header(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return f"{credentials.scheme} {credentials.credentials}" if credentials else None


async def current_principal(
    state: StateDep, session: SessionDep, credentials: Credentials
) -> Principal:
    return await state.authenticator.authenticate(session, _header(credentials))


async def optional_principal(
    state: StateDep, session: SessionDep, credentials: Credentials
) -> Principal | None:
    if credentials is None:
        return None
    return await state.authenticator.authenticate(session, _header(credentials))


PrincipalDep = Annotated[Principal, Depends(current_principal)]
OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]
