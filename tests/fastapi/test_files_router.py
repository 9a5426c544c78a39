"""files_router's options in an app of the test's own (in-process, local disk store):
anonymous downloads of public files with ``optional_owner``, the administration routes
only with ``admin=True``, the state from a dependency of the host, and an owner
dependency that returns something else than an owner is a clear error."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.testclient import TestClient

from s3files.contrib.fastapi import as_principal, files_router, s3files_lifespan
from s3files.server.auth import Principal
from s3files.server.settings import load_service_settings
from s3files.server.state import AppState
from tests import samples


async def optional_user(x_user: Annotated[str | None, Header()] = None) -> str | None:
    return x_user


async def user(who: Annotated[str | None, Depends(optional_user)]) -> Principal:
    if not who:
        raise HTTPException(401, "log in")
    return Principal(owner=who, is_admin=who == "root")


async def held_state(request: Request) -> AppState:
    state: AppState = request.app.state.held
    return state


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = load_service_settings(
        storage_url=f"file://{tmp_path / 'files'}", data_dir=tmp_path / "data"
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with s3files_lifespan(app, settings) as state:
            app.state.held = state
            yield

    app = FastAPI(lifespan=lifespan)
    app.include_router(
        files_router(user, optional_owner=optional_user, state=held_state), prefix="/files-api"
    )
    app.include_router(files_router(user, admin=True), prefix="/admin-api")
    with TestClient(app) as test_client:
        yield test_client


def test_public_files_download_without_a_login_with_optional_owner(client: TestClient) -> None:
    alice = {"X-User": "alice"}
    stored = client.post(
        "/files-api/files/upload",
        headers=alice,
        files={"file": ("a.png", samples.png(), "image/png")},
        data={"is_public": "true"},
    ).json()
    hidden = client.post(
        "/files-api/files/upload",
        headers=alice,
        files={"file": ("b.png", samples.png(), "image/png")},
    ).json()
    assert client.get(f"/files-api/files/{stored['id']}/download").content == samples.png()
    assert client.get(f"/files-api/files/{hidden['id']}/download").status_code == 401
    assert client.get("/files-api/files").status_code == 401  # listing still needs a login
    # the router without optional_owner: every download needs the owner
    assert client.get(f"/admin-api/files/{stored['id']}/download").status_code == 401


def test_administration_routes_only_with_admin(client: TestClient) -> None:
    paths = set(client.get("/openapi.json").json()["paths"])
    assert "/admin-api/quotas/{owner}" in paths and "/files-api/quotas/{owner}" not in paths
    assert client.get("/admin-api/quotas/alice", headers={"X-User": "bob"}).status_code == 403
    answer = client.get("/admin-api/quotas/alice", headers={"X-User": "root"})
    assert answer.status_code == 200 and answer.json()["owner"] == "alice"


def test_an_owner_must_be_a_name_or_a_principal() -> None:
    assert as_principal("alice") == Principal(owner="alice")
    for wrong in ("", "x" * 256, 42, None):
        with pytest.raises(TypeError, match="must return the owner's id"):
            as_principal(wrong)
