"""examples/fastapi as its own process (uvicorn): the host app's users log in with the
host's JWT, upload, list and download through the s3files router under the host's prefix,
and never reach each other's files; on Ceph RGW and on the local disk."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import samples
from tests.conftest import new_bucket
from tests.harness.ceph import S3Server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fastapi"
API = "/api/v1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module", params=["s3", "local"])
def host_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """``uvicorn main:app`` from examples/fastapi, over RGW or the local disk."""
    folder = tmp_path_factory.mktemp(f"host-{request.param}")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(folder),
        "EXAMPLE_USERS": "alice:wonderland,bob:builder",
        "EXAMPLE_JWT_SECRET": "host-secret-of-the-tests",
        "S3FILES_DATA_DIR": str(folder / "data"),
        "S3FILES_PUBLIC_URL": base + API,
    }
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    if request.param == "s3":
        s3_server: S3Server = request.getfixturevalue("s3_server")
        bucket = new_bucket(request.getfixturevalue("boto_client"))
        env |= {
            "S3_BUCKET_NAME": bucket,
            "S3_ENDPOINT_URL": s3_server.endpoint_url,
            "AWS_ACCESS_KEY_ID": s3_server.access_key,
            "AWS_SECRET_ACCESS_KEY": s3_server.secret_key,
            "AWS_REGION": s3_server.region,
        }
    else:
        env["S3FILES_STORAGE_URL"] = f"file://{folder / 'files'}"
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "main:app",
            "--app-dir",
            str(EXAMPLE),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((folder / "server.log").read_text())
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=30) as client:
            yield client
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def login(client: httpx.Client, username: str, password: str) -> dict[str, str]:
    answer = client.post(
        f"{API}/login/access-token", data={"username": username, "password": password}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_a_host_user_uploads_lists_and_downloads_only_their_own(host_app: httpx.Client) -> None:
    client = host_app
    alice, bob = login(client, "alice", "wonderland"), login(client, "bob", "builder")
    body = samples.png() + b"\0" * 5000
    uploaded = client.post(
        f"{API}/files/upload",
        headers=alice,
        files={"file": ("sunset.png", body, "image/png")},
        data={"folder": "holidays"},
    )
    assert uploaded.status_code == 201, uploaded.text
    record = uploaded.json()
    assert record["owner"] == "alice" and record["content_type"] == "image/png"
    file_id = record["id"]
    listed = client.get(f"{API}/files", headers=alice, params={"folder": "holidays"}).json()
    assert [item["id"] for item in listed["items"]] == [file_id]
    downloaded = client.get(f"{API}/files/{file_id}/download", headers=alice)
    assert downloaded.status_code == 200 and downloaded.content == body
    # a presigned URL: straight to RGW, or to the local store's route under the host's prefix
    url = client.get(f"{API}/files/{file_id}/presigned-url", headers=alice).json()["url"]
    assert httpx.get(url).content == body
    # bob: nothing of alice's, not even that it exists
    assert client.get(f"{API}/files", headers=bob).json()["items"] == []
    for path in (f"{API}/files/{file_id}", f"{API}/files/{file_id}/download"):
        refused = client.get(path, headers=bob)
        assert refused.status_code == 404 and refused.json()["error"] == "not_found"
    assert client.delete(f"{API}/files/{file_id}", headers=bob).status_code == 404
    assert client.get(f"{API}/files/{file_id}", headers=alice).status_code == 200
    # the core's validation, with the service's error shape
    spoofed = client.post(
        f"{API}/files/upload", headers=bob, files={"file": ("cv.png", samples.pdf(), "image/png")}
    )
    assert spoofed.status_code == 415 and spoofed.json()["error"] == "unsupported_file_type"
    # the host's authentication decides: no token, a bad token, an s3files-style key
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Bearer s3f_x"}):
        assert client.get(f"{API}/files", headers=headers).status_code == 401


def test_the_host_openapi_shows_the_routes_with_the_hosts_security(host_app: httpx.Client) -> None:
    schema = host_app.get("/openapi.json").json()
    paths = schema["paths"]
    assert {
        f"{API}/login/access-token",
        f"{API}/files/upload",
        f"{API}/files/{{file_id}}/download",
        f"{API}/uploads",
        f"{API}/folders",
    } <= set(paths)
    assert not any(path.startswith(f"{API}/api/v1") for path in paths)
    assert not any("buckets" in path for path in paths)  # administration stays out
    assert set(schema["components"]["securitySchemes"]) == {"OAuth2PasswordBearer"}
    assert paths[f"{API}/files/upload"]["post"]["security"] == [{"OAuth2PasswordBearer": []}]
    assert paths[f"{API}/files/{{file_id}}/download"]["get"]["security"] == [
        {"OAuth2PasswordBearer": []}
    ]
