"""How the service is put together: limits and failpoints from the environment, one
database bootstrap, ``serve`` passing its settings explicitly."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from s3files.cli.local_app import app as cli_app
from s3files.cli.server import AppFactory
from s3files.server.api_error import ApiError
from s3files.server.db.bootstrap import open_database
from s3files.server.db.migrate import HEAD_REVISION, current_revision
from s3files.server.failpoints import Failpoints
from s3files.server.limits import ServiceLimits, TransferGate
from s3files.server.settings import ServiceSettings
from tests.server.conftest import run_async


def test_failpoints_need_to_be_enabled() -> None:
    assert Failpoints.from_environment({"S3FILES_FAILPOINTS": "upload.after_store_write"}) == (
        Failpoints()
    )
    armed = Failpoints.from_environment(
        {"S3FILES_FAILPOINTS_ENABLED": "1", "S3FILES_FAILPOINTS": "a, b"}
    )
    assert armed.armed == frozenset({"a", "b"})
    Failpoints().hit("a")  # nothing armed: returns


def test_limits_from_environment() -> None:
    limits = ServiceLimits.from_environment(
        {"S3FILES_MAX_TRANSFERS": "8", "S3FILES_BODY_MIN_RATE": "12.5", "OTHER": "x"}
    )
    assert (limits.max_transfers, limits.body_min_rate) == (8, 12.5)
    assert limits.max_transfers_per_owner == ServiceLimits().max_transfers_per_owner
    assert 5 <= limits.pool_size() <= 30
    with pytest.raises(ValueError, match="S3FILES_MAX_TRANSFERS must be a number"):
        ServiceLimits.from_environment({"S3FILES_MAX_TRANSFERS": "many"})
    with pytest.raises(ValueError, match="must be positive"):
        ServiceLimits.from_environment({"S3FILES_BODY_READ_TIMEOUT": "0"})


def test_transfer_gate_counts_per_owner_and_in_total() -> None:
    gate = TransferGate(ServiceLimits(max_transfers=3, max_transfers_per_owner=2))
    gate.acquire("a")
    gate.acquire("a")
    with pytest.raises(ApiError, match="for this owner") as refused:
        gate.acquire("a")
    assert (refused.value.status, refused.value.error) == (503, "busy")
    gate.acquire("b")
    with pytest.raises(ApiError, match="too many transfers") as full:
        gate.acquire("c")
    assert full.value.headers == {"Retry-After": "2"}
    gate.release("a")
    gate.acquire("c")
    assert gate.in_flight == 3


def test_open_database_makes_the_sqlite_folder(tmp_path: Path) -> None:
    database = tmp_path / "deep" / "er" / "meta.db"
    settings = ServiceSettings(data_dir=tmp_path / "data", database_url=f"sqlite:///{database}")

    async def check() -> str | None:
        engine = await open_database(settings)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    assert run_async(check()) == HEAD_REVISION
    assert database.exists() and (tmp_path / "data").is_dir()


def test_cleanup_command_makes_the_sqlite_folder(tmp_path: Path) -> None:
    """``s3files cleanup`` used to forget the folder of a SQLite database."""
    database = tmp_path / "not" / "yet" / "meta.db"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "S3FILES_DATA_DIR": str(tmp_path / "data"),
        "S3FILES_DATABASE_URL": f"sqlite:///{database}",
    }
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    done = subprocess.run(
        [sys.executable, "-m", "s3files.cli", "cleanup"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert database.exists()


def test_serve_passes_settings_without_touching_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    seen: dict[str, Any] = {}

    def fake_run(server: uvicorn.Server, *args: Any, **kwargs: Any) -> None:
        seen["config"] = server.config
        server.started = True

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    monkeypatch.delenv("S3FILES_PUBLIC_URL", raising=False)
    monkeypatch.setenv("S3FILES_DATA_DIR", str(tmp_path / "data"))
    before = dict(os.environ)
    result = CliRunner().invoke(cli_app, ["serve", "--port", "18123"])
    assert result.exit_code == 0, result.output
    assert dict(os.environ) == before
    factory = seen["config"].app
    assert isinstance(factory, AppFactory)
    assert factory.settings.public_base_url == "http://127.0.0.1:18123"
    assert pickle.loads(pickle.dumps(factory)).settings == factory.settings  # for workers
