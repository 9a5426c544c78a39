"""The store contract: every case runs against the local disk and the real S3 server."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from s3files import (
    ChecksumMismatchError,
    EmptyFileError,
    FileStore,
    FileTooLargeError,
    InvalidInputError,
    InvalidKeyError,
    LocalStore,
    NamingPolicy,
    ObjectNotFoundError,
    PresignedURL,
    S3FilesError,
    S3Store,
    UnsupportedFileTypeError,
    UploadPolicy,
)
from s3files._errors import ExpiredSignatureError, InvalidSignatureError
from s3files.server.app import create_app
from s3files.server.settings import ServiceSettings
from tests import samples
from tests.conftest import LOCAL_SIGNING_SECRET

MiB = 1024 * 1024


def chunks_of(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def keys_in(files: FileStore, prefix: str = "") -> list[str]:
    return [info.key for info in files.iter_objects(prefix)]


def assert_nothing_left(files: FileStore) -> None:
    """No object and, on S3, no unfinished multipart upload."""
    assert keys_in(files) == []
    store = files.store
    if isinstance(store, S3Store):
        uploads = store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix)
        assert uploads.get("Uploads", []) == []
    if isinstance(store, LocalStore):
        assert list((store.root / ".s3files" / "tmp").iterdir()) == []


class Fetch(Protocol):
    """Use a presigned URL: its method, URL, and the body and headers a client would send;
    returns the real answer's status, body and headers."""

    def __call__(
        self,
        files: FileStore,
        presigned: PresignedURL,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes, dict[str, str]]: ...


@pytest.fixture
def fetch(any_store: LocalStore | S3Store, tmp_path: Path) -> Iterator[Fetch]:
    """A presigned URL goes to the server that answers it in production: Ceph RGW for S3,
    and for the local store the s3files service itself (its ``/store/{key}`` routes, built
    by ``create_app`` on the same folder and signing secret, lifespan included)."""
    if isinstance(any_store, S3Store):

        def over_http(
            files: FileStore,
            presigned: PresignedURL,
            body: bytes | None = None,
            headers: dict[str, str] | None = None,
        ) -> tuple[int, bytes, dict[str, str]]:
            assert files.store is any_store
            response = httpx.request(
                presigned.method, presigned.url, content=body, headers=headers or {}, timeout=30
            )
            return response.status_code, response.content, dict(response.headers)

        yield over_http
        return

    assert any_store.signer is not None
    settings = ServiceSettings(
        storage_url=f"file://{any_store.root.absolute()}",
        signing_key=LOCAL_SIGNING_SECRET.decode(),
        public_base_url=any_store.signer.base_url,
        data_dir=tmp_path / "service",
    )
    with TestClient(create_app(settings)) as client:

        def through_service(
            files: FileStore,
            presigned: PresignedURL,
            body: bytes | None = None,
            headers: dict[str, str] | None = None,
        ) -> tuple[int, bytes, dict[str, str]]:
            assert files.store is any_store
            assert presigned.url.startswith(settings.public_base_url + "/store/")
            response = client.request(
                presigned.method, presigned.url, content=body, headers=headers or {}
            )
            return response.status_code, response.content, dict(response.headers)

        yield through_service


# Round trips -----------------------------------------------------------------------------


def test_upload_bytes_round_trip(files: FileStore) -> None:
    content = samples.png()
    stored = files.upload(content, filename="photo.png", folder="images")
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.size == len(content)
    assert stored.content_type == "image/png"
    assert stored.key.startswith("images/")
    assert stored.key.endswith("_photo.png")
    assert files.download(stored.key) == content
    info = files.head(stored.key)
    assert info.size == len(content)
    assert info.content_type == "image/png"
    assert info.etag == stored.etag
    assert isinstance(info.last_modified, datetime)
    assert files.exists(stored.key)


@pytest.mark.parametrize("source_kind", ["path", "file", "iterator"])
def test_upload_sources(files: FileStore, tmp_path: Path, source_kind: str) -> None:
    content = samples.text(300_000)
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    if source_kind == "path":
        stored = files.upload(path)
    elif source_kind == "file":
        with path.open("rb") as handle:
            stored = files.upload(handle, filename="notes.txt")
    else:
        stored = files.upload(chunks_of(content, 7_777), filename="notes.txt")
    assert stored.original_filename == "notes.txt"
    assert stored.content_type == "text/plain"
    assert files.download(stored.key) == content


def test_large_streaming_upload_is_multipart_and_intact(permissive_files: FileStore) -> None:
    content = os.urandom(17 * MiB + 123)
    stored = permissive_files.upload(chunks_of(content, MiB), filename="blob.bin")
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    digest = hashlib.sha256()
    for chunk in permissive_files.iter_bytes(stored.key, chunk_size=MiB):
        assert len(chunk) <= MiB
        digest.update(chunk)
    assert digest.hexdigest() == stored.sha256
    if isinstance(permissive_files.store, S3Store):
        assert stored.etag is not None and stored.etag.endswith("-4")  # four 5 MiB parts


def test_upload_and_download_memory_stays_flat(permissive_files: FileStore) -> None:
    size = 96 * MiB

    def generate() -> Iterator[bytes]:
        block = os.urandom(MiB)
        for _ in range(size // MiB):
            yield block

    tracemalloc.start()
    try:
        stored = permissive_files.upload(generate(), filename="big.bin")
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        total = sum(len(chunk) for chunk in permissive_files.iter_bytes(stored.key))
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size
    # parts of 5 MiB: 4 in flight, one waiting, one being filled; not the 96 MiB file
    assert upload_peak < 36 * MiB, upload_peak
    assert download_peak < 8 * MiB, download_peak


def test_ranges(files: FileStore) -> None:
    content = samples.text(10_000)
    stored = files.upload(content, filename="range.txt")
    assert files.download(stored.key, offset=100, length=50) == content[100:150]
    assert files.download(stored.key, offset=9_990) == content[9_990:]
    assert files.download(stored.key, offset=9_990, length=500) == content[9_990:]
    assert b"".join(files.iter_bytes(stored.key, offset=0, length=1)) == content[:1]
    with pytest.raises(InvalidInputError) as caught:
        files.download(stored.key, offset=20_000)
    assert caught.value.reason == "invalid_range"
    with pytest.raises(InvalidInputError):
        files.download(stored.key, offset=-1)


def test_metadata_tags_disposition_storage_class(files: FileStore) -> None:
    metadata = {
        "category": "profile",
        "tags": ["user", "avatar"],
        "processed": False,
        "score": 4.5,
        "note": "caf\u00e9 \u2713",
    }
    stored = files.upload(
        samples.pdf(),
        filename="r\u00e9sum\u00e9.pdf",
        metadata=metadata,
        tags={"team": "blue", "env": "test"},
        storage_class="STANDARD_IA",
    )
    info = files.head(stored.key)
    assert dict(info.metadata) == metadata
    assert info.storage_class == "STANDARD_IA"
    assert info.content_type == "application/pdf"
    assert info.content_disposition is not None
    assert info.content_disposition.startswith("attachment;")
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9.pdf" in info.content_disposition
    assert files.get_tags(stored.key) == {"team": "blue", "env": "test"}


def test_listing_reports_storage_class(files: FileStore) -> None:
    files.upload(samples.text(), filename="ia.txt", folder="cls", storage_class="STANDARD_IA")
    [info] = files.list("cls/").items
    assert info.storage_class == "STANDARD_IA"


@pytest.mark.parametrize("bad", [{"bad key": 1}, {"x": object()}, {"k": "v" * 3000}])
def test_bad_metadata_is_refused(files: FileStore, bad: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        files.upload(samples.text(), filename="a.txt", metadata=bad)
    assert_nothing_left(files)


def test_unknown_storage_class_is_refused(files: FileStore) -> None:
    with pytest.raises(InvalidInputError) as caught:
        files.upload(samples.text(), filename="a.txt", storage_class="PLATINUM")
    assert caught.value.reason == "invalid_storage_class"


def test_server_side_encryption(files: FileStore, store_kind: str) -> None:
    from tests.harness.ceph import KMS_KEY_ID

    aes = files.upload(samples.text(), filename="secret.txt", encryption="AES256")
    kms = files.upload(
        samples.text(), filename="kms.txt", encryption="aws:kms", kms_key_id=KMS_KEY_ID
    )
    assert files.download(aes.key) == samples.text()
    assert files.download(kms.key) == samples.text()
    if store_kind == "s3":
        # Ceph RGW 16 encrypts with SSE-S3 but does not echo the header; AWS does
        assert files.head(aes.key).encryption in ("AES256", None)
        assert files.head(kms.key).encryption == "aws:kms"
        copied = files.copy(kms.key, folder="copies")  # RGW cannot copy these on its side
        assert copied.encryption == "aws:kms"
        assert files.download(copied.key) == samples.text()
    else:  # the local store does not encrypt and does not pretend to
        assert files.head(aes.key).encryption is None


# Naming ----------------------------------------------------------------------------------


def test_naming_policies(any_store: LocalStore | S3Store) -> None:
    now = datetime.now(UTC)
    uuid_files = FileStore(any_store, naming=NamingPolicy())
    key = uuid_files.upload(samples.text(), filename="document.txt").key
    assert re.fullmatch(rf"{now:%Y/%m/%d}/[0-9a-f-]{{36}}_document\.txt", key), key

    stamp_files = FileStore(
        any_store,
        naming=NamingPolicy(strategy="timestamp", folder_structure="uploads/{year}-{month}"),
    )
    key = stamp_files.upload(samples.text(), filename="document.txt").key
    assert re.fullmatch(rf"uploads/{now:%Y-%m}/\d{{8}}_\d{{6}}_document\.txt", key), key

    original = FileStore(any_store, naming=NamingPolicy(strategy="original", folder_structure=""))
    assert original.upload(samples.text(), filename="document.txt").key == "document.txt"

    brief001 = FileStore(
        any_store, naming=NamingPolicy(preserve_filename=False, folder_structure="uploads")
    )
    key = brief001.upload(samples.jpeg(), filename="Me.JPG").key
    assert re.fullmatch(
        r"uploads/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\.jpg", key
    ), key


# Refusals leave nothing behind -----------------------------------------------------------


def test_oversize_is_refused_and_leaves_nothing(any_store: LocalStore | S3Store) -> None:
    files = FileStore(any_store, policy=UploadPolicy.permissive(max_size=6 * MiB))
    with pytest.raises(FileTooLargeError) as caught:
        files.upload(chunks_of(os.urandom(12 * MiB), 256 * 1024), filename="big.bin")
    assert caught.value.limit == 6 * MiB
    assert_nothing_left(files)
    exact = files.upload(os.urandom(6 * MiB), filename="exact.bin")
    assert exact.size == 6 * MiB


@pytest.mark.parametrize(
    ("content", "filename", "claimed", "reason"),
    [
        (samples.elf(), "tool.exe", None, "extension_not_allowed"),
        (samples.elf(), "tool.txt", None, "type_mismatch"),
        (samples.pdf(), "photo.jpg", None, "type_mismatch"),
        (samples.png(), "photo.png", "application/pdf", "type_mismatch"),
        (samples.html(), "page.html", None, "extension_not_allowed"),
        (samples.html(), "page.json", None, "type_mismatch"),
        (samples.zip_archive(), "sheet.pdf", None, "type_mismatch"),
    ],
)
def test_wrong_types_are_refused(
    files: FileStore, content: bytes, filename: str, claimed: str | None, reason: str
) -> None:
    with pytest.raises(UnsupportedFileTypeError) as caught:
        files.upload(content, filename=filename, content_type=claimed)
    assert caught.value.reason == reason
    assert_nothing_left(files)


def test_mime_allowlist(any_store: LocalStore | S3Store) -> None:
    files = FileStore(
        any_store,
        policy=UploadPolicy(
            allowed_extensions=frozenset({"pdf", "txt"}),
            allowed_mime_types=frozenset({"text/plain"}),
        ),
    )
    with pytest.raises(UnsupportedFileTypeError) as caught:
        files.upload(samples.pdf(), filename="doc.pdf")
    assert caught.value.reason == "mime_type_not_allowed"
    assert files.upload(samples.html(), filename="page.txt").content_type == "text/plain"
    assert_nothing_left_but(files, 1)


def assert_nothing_left_but(files: FileStore, count: int) -> None:
    assert len(keys_in(files)) == count


def test_wrong_type_after_first_part_leaves_nothing(any_store: LocalStore | S3Store) -> None:
    files = FileStore(any_store, policy=UploadPolicy(max_size=None))
    payload = samples.elf() + os.urandom(12 * MiB)
    with pytest.raises(UnsupportedFileTypeError):
        files.upload(chunks_of(payload, MiB), filename="movie.pdf")
    assert_nothing_left(files)


def test_empty_and_checksum(files: FileStore) -> None:
    with pytest.raises(EmptyFileError):
        files.upload(b"", filename="empty.txt")
    content = samples.text(5000)
    with pytest.raises(ChecksumMismatchError):
        files.upload(content, filename="a.txt", expected_sha256="0" * 64)
    assert_nothing_left(files)
    stored = files.upload(
        content, filename="a.txt", expected_sha256=hashlib.sha256(content).hexdigest()
    )
    assert files.exists(stored.key)


def test_failing_source_leaves_nothing(any_store: LocalStore | S3Store) -> None:
    files = FileStore(any_store, policy=UploadPolicy.permissive())

    def broken() -> Iterator[bytes]:
        yield samples.text(6 * MiB)
        yield samples.text(6 * MiB)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        files.upload(broken(), filename="partial.txt")
    assert_nothing_left(files)


# Keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["../x", "/abs", "a//b", "a/./b", "a/../../b", "", "x\x00y", "a/"])
def test_invalid_keys_are_refused(files: FileStore, key: str) -> None:
    for call in (files.head, files.download, files.delete, files.exists):
        with pytest.raises(InvalidKeyError):
            call(key)
    with pytest.raises(InvalidKeyError):
        files.presign_download(key)


def test_missing_objects(files: FileStore) -> None:
    with pytest.raises(ObjectNotFoundError) as caught:
        files.head("nope/missing.txt")
    assert isinstance(caught.value, FileNotFoundError)
    assert caught.value.key == "nope/missing.txt"
    with pytest.raises(FileNotFoundError):
        files.download("nope/missing.txt")
    with pytest.raises(ObjectNotFoundError):
        files.copy("nope/missing.txt", folder="x")
    assert not files.exists("nope/missing.txt")
    files.delete("nope/missing.txt")  # deleting what is gone is fine, as on S3


def test_delete(files: FileStore) -> None:
    stored = files.upload(samples.text(), filename="bye.txt", folder="trash")
    files.delete(stored.key)
    assert not files.exists(stored.key)
    files.delete(stored.key)
    assert keys_in(files) == []


# Copy ------------------------------------------------------------------------------------


def test_copy_to_folder_and_with_new_metadata(files: FileStore) -> None:
    stored = files.upload(samples.pdf(), filename="contract.pdf", folder="docs", metadata={"v": 1})
    copied = files.copy(stored.key, folder="archives")
    assert copied.key == "archives/" + stored.key.rsplit("/", 1)[-1]
    assert dict(files.head(copied.key).metadata) == {"v": 1}
    assert files.head(copied.key).content_type == "application/pdf"
    replaced = files.copy(
        stored.key, dest_key="archives/v2.pdf", metadata={"archived": True, "date": "2025-01-15"}
    )
    assert dict(replaced.metadata) == {"archived": True, "date": "2025-01-15"}
    assert files.head(replaced.key).content_type == "application/pdf"
    assert files.download(replaced.key) == samples.pdf()
    assert files.exists(stored.key)
    with pytest.raises(InvalidKeyError):
        files.copy(stored.key, folder="../..")


# Listing ---------------------------------------------------------------------------------


def test_list_pages_and_search(files: FileStore) -> None:
    naming = FileStore(files.store, naming=NamingPolicy(strategy="original", folder_structure=""))
    names = ["a/1.txt", "a/2.txt", "a/3.txt", "a-b.txt", "a/sub/4.txt", "b/5.txt", "ab.txt"]
    for name in names:
        folder, _, base = name.rpartition("/")
        naming.upload(samples.text(), filename=base, folder=folder)
    everything = keys_in(files)
    assert everything == sorted(names)
    page = files.list("a/", page_size=2)
    assert [i.key for i in page.items] == ["a/1.txt", "a/2.txt"]
    assert page.next_token
    page2 = files.list("a/", page_size=2, token=page.next_token)
    assert [i.key for i in page2.items] == ["a/3.txt", "a/sub/4.txt"]
    assert page2.next_token is None or files.list("a/", token=page2.next_token).items == []
    assert [i.key for i in files.iter_objects("a", page_size=1)] == [
        "a-b.txt",
        "a/1.txt",
        "a/2.txt",
        "a/3.txt",
        "a/sub/4.txt",
        "ab.txt",
    ]
    assert [i.key for i in files.search("a/s")] == ["a/sub/4.txt"]
    assert len(files.search("a", limit=2)) == 2
    assert files.list("zzz/").items == []
    assert all(i.size == 100 for i in files.list().items)


def test_bad_listing_input(files: FileStore) -> None:
    with pytest.raises(InvalidInputError):
        files.list(page_size=0)
    with pytest.raises(S3FilesError):
        files.list(token="!!not-a-token!!")


# URLs ------------------------------------------------------------------------------------


def test_presigned_download(files: FileStore, fetch: Fetch) -> None:
    content = samples.pdf()
    stored = files.upload(content, filename="invoice.pdf")
    presigned = files.presign_download(stored.key, expires_in=60)
    assert presigned.method == "GET"
    assert 55 <= (presigned.expires_at - datetime.now(UTC)).total_seconds() <= 61
    status, body, _ = fetch(files, presigned)
    assert (status, body) == (200, content)

    forced = files.presign_download(stored.key, force_download=True, filename="Rechnung \u00e4.pdf")
    status, body, headers = fetch(files, forced)
    assert status == 200
    disposition = headers.get("content-disposition", "")
    assert disposition.startswith("attachment;")
    assert "Rechnung%20%C3%A4.pdf" in disposition

    tampered = PresignedURL(
        url=presigned.url.replace(stored.key[-8:], "x" * 8),
        method="GET",
        expires_at=presigned.expires_at,
    )
    assert fetch(files, tampered)[0] == 403
    signature_changed = re.sub(
        r"(Signature|signature)=(.)",
        lambda m: m.group(1) + "=" + ("0" if m.group(2) != "0" else "1"),
        presigned.url,
    )
    assert fetch(files, PresignedURL(signature_changed, "GET", presigned.expires_at))[0] == 403


def test_presigned_url_expires(files: FileStore, fetch: Fetch) -> None:
    import time

    stored = files.upload(samples.text(), filename="soon.txt")
    presigned = files.presign_download(stored.key, expires_in=1)
    time.sleep(2.2)
    assert fetch(files, presigned)[0] == 403
    with pytest.raises(InvalidInputError):
        files.presign_download(stored.key, expires_in=0)
    with pytest.raises(InvalidInputError):
        files.presign_download(stored.key, expires_in=8 * 24 * 3600)


def test_presigned_upload_binds_content_type(files: FileStore, fetch: Fetch) -> None:
    key = "direct/upload.png"
    presigned = files.presign_upload(key, content_type="image/png", expires_in=60)
    assert presigned.method == "PUT"
    assert presigned.headers == {"Content-Type": "image/png"}
    wrong = fetch(files, presigned, body=samples.png(), headers={"Content-Type": "text/html"})
    assert wrong[0] == 403
    assert not files.exists(key)
    ok = fetch(files, presigned, body=samples.png(), headers=dict(presigned.headers))
    assert ok[0] == 200
    assert files.head(key).content_type == "image/png"
    assert files.download(key) == samples.png()


def test_local_signer_refuses_forgery_and_expiry(local_store: LocalStore) -> None:
    files = FileStore(local_store)
    url = files.presign_download("a/b.txt", expires_in=60).url
    signer = local_store.signer
    assert signer is not None
    query = dict(parse_qsl(urlsplit(url).query))
    assert signer.verify("GET", "a/b.txt", query) == {}
    with pytest.raises(InvalidSignatureError):
        signer.verify("GET", "a/c.txt", query)
    with pytest.raises(InvalidSignatureError):
        signer.verify("PUT", "a/b.txt", query)
    with pytest.raises(InvalidSignatureError):
        signer.verify("GET", "a/b.txt", {**query, "expires": str(int(query["expires"]) + 999)})
    with pytest.raises(ExpiredSignatureError):
        signer.verify("GET", "a/b.txt", query, now=datetime(2999, 1, 1, tzinfo=UTC))


def test_public_url(files: FileStore, store_kind: str) -> None:
    stored = files.upload(samples.text(), filename="pub lic.txt")
    url = files.public_url(stored.key)
    if store_kind == "s3":
        store = files.store
        assert isinstance(store, S3Store)
        assert url == f"{store.endpoint_url}/{store.bucket}/{store.prefix}/" + stored.key.replace(
            " ", "%20"
        )
        assert httpx.get(url).status_code == 403  # private by default
    else:
        assert url.startswith("file://")
        assert Path(unquote(urlsplit(url).path)).read_bytes() == samples.text()


def test_file_object_source_is_not_read_whole(files: FileStore) -> None:
    class CountingReader(io.BytesIO):
        largest = 0

        def read(self, size: int | None = -1) -> bytes:
            assert size is not None and size > 0, "read() without a size reads everything"
            CountingReader.largest = max(CountingReader.largest, size)
            return super().read(size)

    stored = files.upload(CountingReader(samples.text(3 * MiB)), filename="r.txt")
    assert stored.size == 3 * MiB
    assert CountingReader.largest <= files.chunk_size
