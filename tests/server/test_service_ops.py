"""Operations around the API: JWT auth, health, metrics, OpenAPI, logs, mounting, CLI."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi import FastAPI

from s3files.server import create_app
from s3files.server.settings import ServiceSettings
from tests import samples
from tests.server.conftest import Service, free_port, make_service

JWT_SECRET = "jwt-secret-for-the-tests-0123456789abcdef"


@pytest.fixture
def jwt_service(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Service]:
    yield from make_service(
        tmp_path, request, "local", "sqlite", jwt_secret=JWT_SECRET, jwt_audience="files"
    )


def token(sub: str, secret: str = JWT_SECRET, **claims: object) -> str:
    payload = {"sub": sub, "exp": int(time.time()) + 60, "aud": "files", **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


def test_jwt_bearer_tokens(jwt_service: Service) -> None:
    url = jwt_service.url
    carol = {"Authorization": f"Bearer {token('carol')}"}
    response = httpx.post(
        f"{url}/api/v1/files/upload", headers=carol, files={"file": ("c.txt", samples.text())}
    )
    assert response.status_code == 201, response.text
    assert response.json()["owner"] == "carol"
    file_id = response.json()["id"]
    assert httpx.get(f"{url}/api/v1/files/{file_id}", headers=carol).status_code == 200
    dave = {"Authorization": f"Bearer {token('dave')}"}
    assert httpx.get(f"{url}/api/v1/files/{file_id}", headers=dave).status_code == 404
    for bad in (
        token("carol", secret="another-secret-0123456789abcdef"),
        token("carol", aud="other"),
        token("carol", exp=int(time.time()) - 10),
        "not.a.jwt",
    ):
        response = httpx.get(f"{url}/api/v1/files", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad
        assert response.json()["error"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"
    with jwt_service.client("alice") as alice:  # API keys keep working beside JWTs
        assert alice.get("/api/v1/files").status_code == 200


def test_health_metrics_and_openapi(sqlite_service: Service) -> None:
    url = sqlite_service.url
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{url}/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "store": "ok"}
    with sqlite_service.client() as client:
        client.post("/api/v1/files/upload", files={"file": ("m.txt", samples.text())})
    metrics = httpx.get(f"{url}/metrics").text
    assert "s3files_files_uploaded_total 1.0" in metrics
    assert (
        's3files_http_requests_total{method="POST",route="/api/v1/files/upload",status="201"}'
        in metrics
    )
    spec = httpx.get(f"{url}/openapi.json").json()
    upload = spec["paths"]["/api/v1/files/upload"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert upload["responses"]["413"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ErrorBody"
    )
    assert spec["components"]["schemas"]["FileOut"]["examples"]
    assert "HTTPBearer" in json.dumps(spec["components"]["securitySchemes"])
    assert httpx.get(f"{url}/docs").status_code == 200
    missing = httpx.get(f"{url}/nowhere")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_config_tells_the_limits(sqlite_service: Service) -> None:
    with sqlite_service.client() as client:
        config = client.get("/api/v1/config").json()
    assert config["max_file_size"] == 100 * 1024 * 1024
    assert "pdf" in config["allowed_extensions"] and "exe" not in config["allowed_extensions"]
    assert config["owner"] == "alice" and config["admin"] is False
    assert config["store"] == sqlite_service.settings.storage_location().scheme.replace(
        "file", "local"
    )
    assert httpx.get(f"{sqlite_service.url}/api/v1/config").status_code == 401


def test_readyz_reports_a_broken_store(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    running = make_service(
        tmp_path, request, "s3", "sqlite", s3_endpoint_url=f"http://127.0.0.1:{free_port()}"
    )
    service = next(running)
    try:
        ready = httpx.get(f"{service.url}/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["store"] == "error: store_unavailable"
        with service.client() as client:
            response = client.post("/api/v1/files/upload", files={"file": ("a.txt", b"hi")})
        assert response.status_code == 503
        assert response.json()["error"] == "store_unavailable"
        assert service.db_rows("select id from files") == []
    finally:
        next(running, None)


def test_logs_have_event_names_and_no_secrets(
    sqlite_service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="s3files")
    with sqlite_service.client() as client:
        file_id = client.post(
            "/api/v1/files/upload", files={"file": ("l.txt", samples.text())}
        ).json()["id"]
        client.get(f"/api/v1/files/{file_id}/download")
        url = client.get(f"/api/v1/files/{file_id}/presigned-url").json()["url"]
        client.delete(f"/api/v1/files/{file_id}")
    events = [record.getMessage() for record in caplog.records]
    for name in (
        "s3_file_uploaded",
        "s3_file_downloaded_bytes",
        "presigned_url_generated",
        "s3_file_deleted",
    ):
        assert name in events
    text = "\n".join(str(getattr(r, "fields", "")) + r.getMessage() for r in caplog.records)
    assert sqlite_service.keys["alice"] not in text
    assert url not in text and "signature" not in text.lower()
    secret = sqlite_service.settings.aws_secret_access_key
    if secret:
        assert secret.get_secret_value() not in text


def test_mount_inside_another_app(tmp_path: Path) -> None:
    settings = ServiceSettings(data_dir=tmp_path, storage_url=f"file://{tmp_path / 'files'}")
    files_app = create_app(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with files_app.router.lifespan_context(files_app):
            yield

    host = FastAPI(lifespan=lifespan)

    @host.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    host.mount("/storage", files_app)
    from fastapi.testclient import TestClient

    with TestClient(host) as client:
        assert client.get("/hello").json() == {"hello": "world"}
        assert client.get("/storage/healthz").json() == {"status": "ok"}
        response = client.get("/storage/api/v1/files")
        assert response.status_code == 401 and response.json()["error"] == "unauthorized"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The local-mode CLI on the data folder ``cwd/s3files-data``, named as an operator
    names it (local mode never creates an unnamed ``./s3files-data``)."""
    return subprocess.run(
        [sys.executable, "-m", "s3files.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(cwd),
            "S3FILES_DATA_DIR": str(cwd / "s3files-data"),
        },
    )


def test_keys_commands(tmp_path: Path) -> None:
    created = run_cli("keys", "create", "--owner", "erin", "--json", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    assert key["key"].startswith("s3f_") and key["owner"] == "erin"
    listed = run_cli("keys", "list", "--json", cwd=tmp_path)
    rows = json.loads(listed.stdout)
    assert [row["owner"] for row in rows] == ["erin"]
    assert key["key"] not in listed.stdout  # secrets are never shown again
    db_file = tmp_path / "s3files-data" / "s3files.db"
    assert key["key"].encode() not in db_file.read_bytes()  # only the hash is stored
    revoked = run_cli("keys", "revoke", rows[0]["prefix"], cwd=tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    assert run_cli("keys", "list", "--json", cwd=tmp_path).stdout.strip() == "[]"
    missing = run_cli("keys", "revoke", "nope", cwd=tmp_path)
    assert missing.returncode == 1 and "no API key" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad = run_cli("keys", "create", "--owner", " ", cwd=tmp_path)
    assert bad.returncode == 1 and "owner" in bad.stderr


def test_serve_first_start(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "s3files.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("serve did not start")
        process.terminate()
        output = process.communicate(timeout=15)[0]
    finally:
        process.kill()
    assert f"http://127.0.0.1:{port}" in output
    key = next(word for word in output.split() if word.startswith("s3f_"))
    assert (tmp_path / "s3files-data" / "s3files.db").exists()
    assert (tmp_path / "s3files-data" / "files").is_dir()
    assert len(key) > 40
