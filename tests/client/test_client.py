"""``Client`` and ``AsyncClient`` against a real ``s3files serve`` on the local disk and on
Ceph RGW: every route, paths as well as ids, every page, typed errors, resumed transfers."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from s3files import FileTooLargeError, ObjectNotFoundError, UnsupportedFileTypeError
from s3files.client import (
    AmbiguousPathError,
    AsyncClient,
    Client,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    QuotaExceededError,
    UnauthorizedError,
)
from tests.client._serve import Served, bytes_of, serve, unique


@pytest.fixture(scope="module", params=["local", "s3"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    yield from serve(
        request.param,
        tmp_path_factory.mktemp(f"client-{request.param}"),
        request,
        S3_MAX_FILE_SIZE_MB="20",
        S3_ALLOWED_EXTENSIONS="txt,bin,pdf,md,png,csv",
    )


@pytest.fixture
def client(served: Served, tmp_path: Path) -> Iterator[Client]:
    with Client(served.url, served.keys["alice"], resume_dir=tmp_path / "resume") as files:
        yield files


def test_upload_list_get_download_by_path_and_id(client: Client, tmp_path: Path) -> None:
    folder = unique("docs")
    source = tmp_path / "report.txt"
    source.write_bytes(bytes_of(3000))
    stored = client.upload(source, folder=folder, metadata={"team": "blue"})
    assert (stored.path, stored.size, stored.metadata) == (
        f"{folder}/report.txt",
        3000,
        {"team": "blue"},
    )
    assert stored.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert client.get_file(f"{folder}/report.txt").id == stored.id
    assert client.get_file(str(stored.id)).path == stored.path
    client.upload(b"second", filename="b.txt", folder=f"{folder}/sub")
    assert [f.name for f in client.list_files(folder)] == ["report.txt"]
    assert sorted(f.path for f in client.list_files(folder, recursive=True)) == [
        f"{folder}/report.txt",
        f"{folder}/sub/b.txt",
    ]
    assert [d.name for d in client.list_folders(folder)] == ["sub"]
    target = tmp_path / "deep" / "er" / "copy.txt"
    client.download(f"{folder}/report.txt", target)
    assert target.read_bytes() == source.read_bytes()
    assert b"".join(client.iter_bytes(stored.id, offset=2990)) == source.read_bytes()[2990:]


def test_files_can_be_looked_up_by_exact_name(client: Client, served: Served) -> None:
    folder = unique("named")
    client.upload(b"1", filename="report.txt", folder=folder)
    client.upload(b"2", filename="report.txt.bak.txt", folder=folder)
    client.upload(b"3", filename="report.txt", folder=f"{folder}/sub")
    found = httpx.get(
        f"{served.url}/api/v1/files",
        params={"folder": folder, "name": "report.txt"},
        headers={"Authorization": f"Bearer {served.keys['alice']}"},
    ).json()["items"]
    assert [(f["folder"], f["original_filename"]) for f in found] == [(folder, "report.txt")]
    document = httpx.get(f"{served.url}/openapi.json").json()
    parameters = document["paths"]["/api/v1/files"]["get"]["parameters"]
    assert "name" in {p["name"] for p in parameters}
    again = client.upload(b"4", filename="report.txt", folder=folder)  # names can repeat
    with pytest.raises(AmbiguousPathError) as caught:
        client.get_file(f"{folder}/report.txt")
    assert again.id in caught.value.ids and len(caught.value.ids) == 2
    assert client.get_file(again.id).size == 1


def test_listing_follows_every_page(client: Client) -> None:
    folder = unique("many")
    for n in range(7):
        client.upload(f"file {n}".encode(), filename=f"f{n}.txt", folder=folder)
    assert len(list(client.list_files(folder, page_size=2))) == 7
    assert len(list(client.list_folders("", page_size=1))) >= 1


def test_errors_are_the_library_types(client: Client, served: Served) -> None:
    missing = f"{unique('none')}/nothing.txt"
    with pytest.raises(NotFoundError) as caught:
        client.get_file(missing)
    assert isinstance(caught.value, FileNotFoundError | ObjectNotFoundError)
    assert missing in str(caught.value) and caught.value.status == 404
    with pytest.raises(NotFoundError):
        client.get_file(uuid.uuid4())
    with pytest.raises(UnsupportedFileTypeError) as refused:
        client.upload(b"MZ\x90\x00binary", filename="tool.exe")
    assert refused.value.status == 415
    with pytest.raises(FileTooLargeError):
        client.upload(b"x" * (21 * 1024 * 1024), filename="big.txt")
    with Client(served.url, "s3f_not_a_key") as stranger, pytest.raises(UnauthorizedError):
        stranger.usage()
    with pytest.raises(ForbiddenError):
        client.set_quota("alice", max_bytes=1)
    source, target = unique("from"), unique("to")
    client.create_folder(source)
    client.create_folder(target)
    with pytest.raises(ConflictError) as conflict:
        client.move_folder(source, target)
    assert conflict.value.code == "folder_exists" and isinstance(conflict.value, FileExistsError)


def test_moves_copies_trash_batch_zip_presign(client: Client, tmp_path: Path) -> None:
    folder = unique("ops")
    first = client.upload(b"one", filename="one.txt", folder=folder)
    second = client.upload(b"two", filename="two.txt", folder=folder)
    moved = client.update_file(f"{folder}/one.txt", name="uno.txt", folder=f"{folder}/in")
    assert moved.path == f"{folder}/in/uno.txt"
    copy = client.copy_file(second.id, folder=f"{folder}/copies")
    assert copy.id != second.id and copy.folder == f"{folder}/copies"
    link = client.presign(copy.id, expiry=60)
    assert httpx.get(link.url).content == b"two"
    archive = tmp_path / "ops.zip"
    size = client.zip_folder(folder, archive)
    with zipfile.ZipFile(archive) as opened:
        assert archive.stat().st_size == size and len(opened.namelist()) == 3
    buffer = io.BytesIO()
    client.zip_files([first.id, second.id], buffer)
    assert len(zipfile.ZipFile(buffer).namelist()) == 2
    outcome = client.batch("trash", [first.id, uuid.uuid4()])
    assert (outcome.succeeded, outcome.failed) == (1, 1)
    assert client.restore_file(f"{folder}/in/uno.txt").id == first.id
    client.delete_file(second.id)
    assert [f.id for f in client.list_files(folder, deleted=True)] == [second.id]
    assert client.move_folder(f"{folder}/copies", f"{folder}/kept").files == 1
    assert client.delete_folder(folder, hard=True).files >= 2
    assert client.usage().owner == "alice"
    assert client.config().owner == "alice" and client.config().max_file_size == 20 * 1024 * 1024


def test_quota_exceeded(served: Served) -> None:
    with (
        Client(served.url, served.keys["root"]) as admin,
        Client(served.url, served.keys["bob"]) as bob,
    ):
        bob.upload(b"fits", filename="a.txt")
        admin.set_quota("bob", max_files=1)
        with pytest.raises(QuotaExceededError):
            bob.upload(b"too many", filename="b.txt")
        assert admin.get_quota("bob").quota.max_files == 1
        admin.set_quota("bob", max_files=None)


def test_big_upload_goes_direct_and_resumes(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(bytes_of(12 * 1024 * 1024, seed=3))
    folder = unique("big")
    with Client(
        served.url, served.keys["alice"], resume_dir=tmp_path / "r", part_concurrency=1
    ) as files:
        original = files._store_http.put
        sent: list[str] = []

        def failing_put(url: str, **kwargs: object) -> httpx.Response:
            sent.append(url)
            if len(sent) == 2:
                raise KeyboardInterrupt  # the user pressed Ctrl-C during the second part
            return original(url, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(files._store_http, "put", failing_put)
        with pytest.raises(KeyboardInterrupt):
            files.upload(source, folder=folder)
        assert list((tmp_path / "r").iterdir()), "the upload's state is kept for a resume"
        monkeypatch.setattr(files._store_http, "put", original)
        resumed: list[int] = []
        stored = files.upload(source, folder=folder, progress=resumed.append)
    assert resumed[0] == 8 * 1024 * 1024  # the first part was not sent again
    assert stored.size == source.stat().st_size
    assert stored.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert not list((tmp_path / "r").iterdir())
    # a large download comes in ranges side by side; one left half done resumes
    monkeypatch.setattr("s3files.client._base.SEGMENT", 5 * 1024 * 1024)
    partial = tmp_path / ".back.bin.part"
    partial.write_bytes(source.read_bytes()[: 5 * 1024 * 1024] + b"\0" * (7 * 1024 * 1024))
    (tmp_path / ".back.bin.part.json").write_text(json.dumps({"size": stored.size, "done": [0]}))
    fetched: list[int] = []
    with Client(served.url, served.keys["alice"], part_concurrency=2) as files:
        files.download(stored.id, tmp_path / "back.bin", progress=fetched.append)
    assert fetched[0] == 5 * 1024 * 1024 and sum(fetched) == stored.size
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
    assert not partial.exists() and not (tmp_path / ".back.bin.part.json").exists()


def test_download_resumes_from_a_partial_file(client: Client, tmp_path: Path) -> None:
    data = bytes_of(200_000, seed=5)
    stored = client.upload(data, filename="resume.txt", folder=unique("dl"))
    target = tmp_path / "resume.txt"
    (tmp_path / ".resume.txt.part").write_bytes(data[:123_456])
    client.download(stored.id, target)
    assert target.read_bytes() == data and not (tmp_path / ".resume.txt.part").exists()


def test_upload_with_an_idempotency_key_stores_once(client: Client) -> None:
    folder = unique("idem")
    key = str(uuid.uuid4())
    first = client.upload(b"once", filename="once.txt", folder=folder, idempotency_key=key)
    again = client.upload(b"once", filename="once.txt", folder=folder, idempotency_key=key)
    assert first.id == again.id and len(list(client.list_files(folder))) == 1


def test_async_client_does_the_same(served: Served, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(bytes_of(9 * 1024 * 1024, seed=9))

    async def main() -> None:
        async with AsyncClient(
            served.url, served.keys["alice"], resume_dir=tmp_path / "r"
        ) as files:
            folder = unique("async")
            small = await files.upload(b"hello", filename="hello.txt", folder=folder)
            big = await files.upload(source, folder=folder)
            assert big.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
            names = [f.name async for f in files.list_files(folder, page_size=1)]
            assert names == ["big.bin", "hello.txt"]
            assert b"".join([c async for c in files.iter_bytes(f"{folder}/hello.txt")]) == b"hello"
            await files.download(big.id, tmp_path / "back.bin")
            assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
            with pytest.raises(NotFoundError):
                await files.get_file(f"{folder}/missing.txt")
            await files.delete_file(small.id, hard=True)

    anyio.run(main)
