"""tus-js-client (from npm) under Node against ``/api/v1/tus/``: a chunked upload and one
stopped and resumed by a new process, byte-identical on download; another owner cannot
resume it; a refused type is refused."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.protocols.conftest import MiB, content
from tests.protocols.npm import install, node
from tests.server.conftest import Service

CLIENT = Path(__file__).parent / "js" / "tus_upload.cjs"
PINS = {"tus-js-client": "4.3.1"}


@pytest.fixture(scope="module")
def deps() -> Path:
    return install(PINS)


def run(deps: Path, **options: Any) -> dict[str, Any]:
    done = subprocess.run(
        [node(), str(CLIENT), str(deps), json.dumps(options)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    event: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return event


def downloaded(service: Service, url: str) -> bytes:
    upload_id = uuid.UUID(url.rsplit("/", 1)[1])
    with service.client() as client:
        status = client.get(f"/api/v1/uploads/{upload_id}").json()
        assert status["status"] == "complete", status
        return client.get(f"/api/v1/files/{status['file_id']}/download").content


def test_chunked_and_resumed_uploads(service: Service, deps: Path, tmp_path: Path) -> None:
    data = content(7 * MiB + 5)
    path = tmp_path / "video.png"
    path.write_bytes(data)
    common = {
        "endpoint": f"{service.url}/api/v1/tus/",
        "key": service.keys["alice"],
        "path": str(path),
        "filename": "video.png",
        "filetype": "image/png",
    }
    whole = run(deps, **common, chunkSize=3 * MiB)
    assert whole["event"] == "success", whole
    assert downloaded(service, whole["url"]) == data

    stopped = run(deps, **common, chunkSize=2 * MiB, stopAfterChunks=1)
    assert stopped["event"] == "stopped", stopped
    with service.client() as client:
        head = client.head(stopped["url"], headers={"Tus-Resumable": "1.0.0"})
    assert head.headers["Upload-Offset"] == str(2 * MiB)

    intruder = run(
        deps,
        **{**common, "endpoint": None, "key": service.keys["bob"]},
        uploadUrl=stopped["url"],
        chunkSize=2 * MiB,
    )
    assert (intruder["event"], intruder["status"]) == ("error", 404), intruder

    resumed = run(deps, **{**common, "endpoint": None}, uploadUrl=stopped["url"], chunkSize=4 * MiB)
    assert (resumed["event"], resumed["url"]) == ("success", stopped["url"]), resumed
    assert resumed["chunks"] == 2  # 2 MiB were on the server: 4 + the last 1 MiB and 5 bytes
    assert downloaded(service, stopped["url"]) == data


def test_refused_type(service: Service, deps: Path, tmp_path: Path) -> None:
    path = tmp_path / "tool.png"
    path.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(8192))
    refused = run(
        deps,
        endpoint=f"{service.url}/api/v1/tus/",
        key=service.keys["alice"],
        path=str(path),
        filename="tool.png",
        filetype="image/png",
        chunkSize=MiB,
    )
    assert (refused["event"], refused["status"]) == ("error", 415), refused


def test_upload_token_as_the_bearer(service: Service, deps: Path, tmp_path: Path) -> None:
    with service.client() as client:
        minted = client.post(
            "/api/v1/companion/tokens",
            json={"folder": "phone", "max_files": 1, "allowed_types": ["image/*"]},
        ).json()
    data = content(300 * 1024)
    path = tmp_path / "photo.png"
    path.write_bytes(data)
    common = {
        "endpoint": f"{service.url}/api/v1/tus/",
        "key": minted["token"],
        "path": str(path),
        "filename": "photo.png",
        "filetype": "image/png",
        "chunkSize": MiB,
    }
    done = run(deps, **common)
    assert done["event"] == "success", done
    assert downloaded(service, done["url"]) == data
    with service.client() as client:
        items = client.get("/api/v1/files", params={"folder": "phone"}).json()["items"]
    assert [item["original_filename"] for item in items] == ["photo.png"]  # the token's folder
    again = run(deps, **common)
    assert (again["event"], again["status"]) == ("error", 403), again  # max_files used up
