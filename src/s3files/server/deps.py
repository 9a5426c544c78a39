"""Dependencies as ``Annotated`` aliases: ``StateDep``, ``PrincipalDep``.

One unit-of-work pattern (written out in ``s3files.server.db.session``): services open
short ``unit_of_work(state.sessions)`` blocks around their database work and never commit
outside one; no session is open while bytes move to or from the store or the client.

- ``PrincipalDep`` authenticates in a transaction of its own, finished before the
  endpoint runs (see ``s3files.server.auth``): a caller holds no pooled connection while
  its upload streams.

The seam for host apps: ``current_principal``, ``optional_principal`` and ``app_state`` are
the only ways an endpoint learns who calls and where the state is. The router of
``s3files.contrib.fastapi`` re-declares the API's routes with these three replaced by the
host's own dependencies (its users, its state): keep every endpoint and dependency
reaching the caller and the state through them, never ``request.app.state`` directly.

There is no request-scoped session: a session as long as the endpoint is exactly what the
rule forbids for any endpoint that also talks to the store or reads a body.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from s3files.server.auth import Principal
from s3files.server.state import AppState

__all__ = ["OptionalPrincipalDep", "PrincipalDep", "StateDep"]

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
