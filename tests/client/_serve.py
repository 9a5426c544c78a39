"""A real ``s3files serve`` process for the client and CLI tests (one per test module): over
the local disk or Ceph RGW, on SQLite, with keys made in its database before it starts."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from s3files.server.db.migrate import upgrade
from s3files.server.db.session import create_engine, session_factory
from s3files.server.keys.service import create_key
from s3files.server.settings import ServiceSettings
from tests.server._environment import process_environment
from tests.server.conftest import _storage, free_port, run_async


@dataclass
class Served:
    """A running ``s3files serve``: its URL, settings and keys by owner."""

    url: str
    settings: ServiceSettings
    process: subprocess.Popen[bytes]
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def store(self) -> str:
        return "local" if (self.settings.storage_url or "").startswith("file:") else "s3"


def _make_keys(settings: ServiceSettings, owners: dict[str, bool]) -> dict[str, str]:
    async def main() -> dict[str, str]:
        engine = create_engine(settings.database())
        try:
            await upgrade(engine)
            keys = {}
            async with session_factory(engine)() as session:
                for owner, admin in owners.items():
                    keys[owner] = (await create_key(session, owner=owner, is_admin=admin)).secret
                await session.commit()
            return keys
        finally:
            await engine.dispose()

    result: dict[str, str] = run_async(main())
    return result


def serve(
    store: str, tmp_path: Path, request: pytest.FixtureRequest, **environment: str
) -> Iterator[Served]:
    """Start ``s3files serve`` on a free port and wait until it answers ``/readyz``."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    settings = ServiceSettings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'meta.db'}",
        public_base_url=f"http://127.0.0.1:{port}",
        signing_key="client-tests-signing-key-0123456789",
        **_storage(store, tmp_path, request),
    )
    keys = _make_keys(settings, {"alice": False, "bob": False, "root": True})
    env = process_environment(
        settings,
        S3FILES_PUBLIC_URL=settings.public_base_url,
        S3FILES_LOG_LEVEL="WARNING",
        **environment,
    )
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "s3files.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = settings.public_base_url
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"s3files serve exited: {(tmp_path / 'serve.log').read_text()}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("s3files serve did not become ready")
        time.sleep(0.1)
    try:
        yield Served(url=url, settings=settings, process=process, keys=keys)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def bytes_of(size: int, seed: int = 0) -> bytes:
    """``size`` bytes that are not all alike (text, so that every service accepts them)."""
    line = f"line {seed} of the test data, for the client and the command line\n".encode()
    return (line * (size // len(line) + 1))[:size]


def read_json(response: httpx.Response) -> Any:
    return response.json()
