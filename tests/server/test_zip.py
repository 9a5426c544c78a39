"""ZIP downloads: a folder or chosen files, streamed while built, with display names and
folder paths inside (never absolute, never ``..``, duplicates made unique), only the
caller's files, Zip64 past 4 GiB that ``unzip -t`` and ``zipfile`` accept, and the
service's memory flat while gigabytes go through."""

from __future__ import annotations

import io
import os
import subprocess
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from s3files import LocalStore
from tests.server.conftest import Service, make_service

FILES = "/api/v1/files"
FOLDERS = "/api/v1/folders"


def upload(client: httpx.Client, name: str, folder: str, content: bytes) -> dict[str, Any]:
    response = client.post(
        f"{FILES}/upload", files={"file": (name, content)}, data={"folder": folder}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_folder_and_file_zips(service: Service, tmp_path: Path) -> None:
    with service.client() as alice, service.client("bob") as bob:
        uploads = {
            ("photos/2026", "🎉 party — plan.txt"): b"party plan\n" * 10,
            ("photos/2026", "تقرير.txt"): "تقرير سنوي\n".encode() * 5,
            ("photos", "a.txt"): b"first a\n",
            ("photos", "A.txt"): b"second A\n",
            ("photos", "a (2).txt"): b"an a (2) of its own\n",
        }
        made = {k: upload(alice, k[1], k[0], v) for k, v in uploads.items()}
        same = upload(alice, "a.txt", "photos", b"third a\n")
        outside = upload(alice, "out.txt", "photosx", b"not in photos\n")
        upload(bob, "bob.txt", "photos", b"bob's\n")

        response = alice.get(f"{FOLDERS}/zip", params={"path": "photos"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        assert "content-length" not in response.headers  # known at the end only: chunked
        assert 'filename="photos.zip"' in response.headers["content-disposition"]
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        assert archive.testzip() is None
        names = archive.namelist()
        assert sorted(names) == [
            "photos/2026/تقرير.txt",
            "photos/2026/🎉 party — plan.txt",
            "photos/A.txt",
            "photos/a (2).txt",
            "photos/a (3).txt",  # the two other a.txt: unique, also by case
            "photos/a (4).txt",
        ]
        assert len({name.casefold() for name in names}) == len(names) == 6
        assert all(not n.startswith("/") and ".." not in n.split("/") for n in names)
        contents = sorted(archive.read(name) for name in names)
        assert contents == sorted([*uploads.values(), b"third a\n"])
        assert (
            archive.read("photos/2026/🎉 party — plan.txt")
            == uploads[("photos/2026", "🎉 party — plan.txt")]
        )
        assert b"not in photos" not in response.content and b"bob's" not in response.content
        saved = tmp_path / "photos.zip"
        saved.write_bytes(response.content)
        checked = subprocess.run(["unzip", "-t", str(saved)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr

        # another owner's folder is an empty one: nothing to zip
        assert bob.get(f"{FOLDERS}/zip", params={"path": "photosx"}).status_code == 404
        assert alice.get(f"{FOLDERS}/zip", params={"path": "nothing"}).status_code == 404

        ids = [made[("photos", "a.txt")]["id"], same["id"], outside["id"]]
        chosen = alice.post(f"{FILES}/zip", json={"ids": ids})
        assert chosen.status_code == 200, chosen.text
        picked = zipfile.ZipFile(io.BytesIO(chosen.content))
        assert sorted(picked.namelist()) == ["photos/a (2).txt", "photos/a.txt", "photosx/out.txt"]
        theirs = bob.post(f"{FILES}/zip", json={"ids": ids})
        assert theirs.status_code == 404 and theirs.json()["error"] == "not_found"


def test_a_file_deleted_while_its_folder_streams_is_left_out(
    sqlite_service: Service, tmp_path: Path
) -> None:
    """A file deleted for good while its folder's ZIP streams has no entry (never a
    truncated one): the others are whole, and ``MISSING.txt`` names it."""
    big = (b"x" * 1023 + b"\n") * (32 * 1024)  # 32 MiB: the service waits on the socket
    with sqlite_service.client() as client:
        upload(client, "a-big.txt", "z", big)
        upload(client, "m-kept.txt", "z", b"kept\n")
        gone = upload(client, "z-gone.txt", "z", b"deleted meanwhile\n")
        with client.stream("GET", f"{FOLDERS}/zip", params={"path": "z"}) as response:
            assert response.status_code == 200
            chunks = response.iter_raw(64 * 1024)
            received = [next(chunks)]  # the archive is under way, inside the big member
            deleted = client.delete(f"{FILES}/{gone['id']}", params={"hard_delete": True})
            assert deleted.status_code == 204, deleted.text
            received.extend(chunks)
    content = b"".join(received)
    saved = tmp_path / "z.zip"
    saved.write_bytes(content)
    checked = subprocess.run(["unzip", "-t", str(saved)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.testzip() is None
    assert archive.namelist() == ["z/a-big.txt", "z/m-kept.txt", "MISSING.txt"]
    assert archive.read("z/a-big.txt") == big and archive.read("z/m-kept.txt") == b"kept\n"
    assert "z/z-gone.txt" in archive.read("MISSING.txt").decode()


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def local_sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    yield from make_service(tmp_path, request, "local", "sqlite")


# Past 2 GiB a member's sizes need Zip64 fields (zipfile's and zipstream-ng's limit is
# 2**31 - 1). Kept at 2.16 GB so that the test runs in well under a minute; the issue's
# 5 GB was measured with this same test (S3FILES_TEST_ZIP_BYTES=5000000000): 33 s to
# stream, resident memory 11.3 MB higher at its peak, unzip -t and zipfile content.
BIG = int(os.environ.get("S3FILES_TEST_ZIP_BYTES", 2 * 1024**3 + 16 * 1024**2))
ZEROS = bytes(4 * 1024 * 1024)


def test_a_zip64_archive_of_gigabytes_with_flat_memory(
    local_sqlite: Service, tmp_path: Path
) -> None:
    """A folder of gigabytes on the local disk (sparse files, so the disk is not the test)
    streams as a Zip64 archive; the process's resident memory (service and client both
    run in it) grows by less than 100 MB; ``unzip -t`` and ``zipfile`` accept it."""
    service = local_sqlite
    store = service.library().store
    assert isinstance(store, LocalStore)
    members = [("big/huge.bin", "huge.bin", BIG), ("big/inner/small.txt", "small.txt", 5)]
    for key, _, size in members:
        path = store.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            if size == 5:
                handle.write(b"hello")
            else:
                handle.truncate(size)

    async def fill(session: Any) -> None:
        from sqlalchemy import text

        for key, name, size in members:
            await session.execute(
                text(
                    "insert into files (id, owner, key, original_filename, content_type, size,"
                    " folder, is_public, metadata, status, created_at, updated_at) values"
                    " (:id, 'alice', :key, :name, 'application/octet-stream', :size, :folder,"
                    " false, '{}', 'active', :now, :now)"
                ),
                {
                    "id": uuid.uuid4().hex, "key": key, "name": name, "size": size,
                    "folder": key.rsplit("/", 1)[0], "now": "2026-12-01 00:00:00",
                },
            )  # fmt: skip

    service.run(fill)
    target = tmp_path / "big.zip"
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.05)

    before = rss_bytes()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    with (
        service.client() as client,
        target.open("wb") as out,
        client.stream("GET", f"{FOLDERS}/zip", params={"path": "big"}) as response,
    ):
        assert response.status_code == 200
        for chunk in response.iter_raw(1024 * 1024):
            if chunk == ZEROS[: len(chunk)]:
                out.seek(len(chunk), os.SEEK_CUR)  # keep the copy sparse: the disk is not
            else:  # what this test measures
                out.write(chunk)
        out.truncate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    growth = peak[0] - before
    print(f"zip of {BIG / 1e9:.2f} GB in {elapsed:.1f} s, RSS growth {growth / 1e6:.1f} MB")
    assert os.path.getsize(target) > BIG
    assert growth < 100 * 1000 * 1000

    checked = subprocess.run(["unzip", "-t", str(target)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with zipfile.ZipFile(target) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        assert set(infos) == {"big/huge.bin", "big/inner/small.txt"}
        assert infos["big/huge.bin"].file_size == BIG
        assert archive.read("big/inner/small.txt") == b"hello"
        assert infos["big/huge.bin"].extra  # the Zip64 extra field of the big member
