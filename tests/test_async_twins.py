"""AsyncFileStore is FileStore's twin: the same typed parameters, and nothing that can reach
the network (presigning with refreshing credentials included) runs on the event loop."""

from __future__ import annotations

import inspect
import itertools
import os
import sys
import time
import typing
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from s3files import (
    AsyncFileStore,
    EmptyFileError,
    FileStore,
    FileTooLargeError,
    LocalStore,
    S3Store,
    Settings,
    StoreError,
    UploadPolicy,
)
from s3files.signing import Credentials
from tests import samples
from tests.harness.ceph import S3Server

# Methods whose async twin has another name, and members that only the twin has.
RENAMED = {"close": "aclose"}
ASYNC_ONLY = {"aclose", "sync", "store", "policy", "naming"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def public_methods(cls: type) -> dict[str, Callable[..., Any]]:
    return {
        name: getattr(cls, name)
        for name in dir(cls)
        if not name.startswith("_")
        and not isinstance(inspect.getattr_static(cls, name), property)
        and callable(getattr(cls, name))
    }


def hints(func: Callable[..., Any]) -> dict[str, Any]:
    # Settings is imported for type checkers only (store.py loads it on use)
    return typing.get_type_hints(func, localns={"Settings": Settings})


def parameters(func: Callable[..., Any]) -> list[inspect.Parameter]:
    return [p for p in inspect.signature(func).parameters.values() if p.name != "self"]


def twin_return(sync_type: Any, async_func: Callable[..., Any]) -> Any:
    """What the async twin must return for a sync method returning ``sync_type``."""
    if inspect.isasyncgenfunction(async_func):
        assert typing.get_origin(sync_type) is Iterator, sync_type
        (item,) = typing.get_args(sync_type)
        return AsyncGenerator[item, None]
    return sync_type  # a coroutine returns the value itself; plain methods are plain


def test_every_method_has_a_twin_with_the_same_typed_parameters() -> None:
    sync_methods = public_methods(FileStore)
    async_methods = public_methods(AsyncFileStore)
    assert set(async_methods) - ASYNC_ONLY <= set(sync_methods)
    assert len(sync_methods) >= 25
    for name, sync_func in sync_methods.items():
        twin_name = RENAMED.get(name, name)
        assert twin_name in async_methods, f"AsyncFileStore has no {twin_name}"
        async_func = async_methods[twin_name]
        sync_hints, async_hints = hints(sync_func), hints(async_func)
        sync_params, async_params = parameters(sync_func), parameters(async_func)
        assert [(p.name, p.kind, p.default) for p in async_params] == [
            (p.name, p.kind, p.default) for p in sync_params
        ], name
        for param in sync_params:
            expected = sync_hints.get(param.name)
            found = async_hints.get(param.name)
            if param.name == "data":  # the twin also takes async iterables of bytes
                widened = set(typing.get_args(expected)) | {AsyncIterable[bytes]}
                assert set(typing.get_args(found)) == widened, name
            else:
                assert found == expected, (name, param.name, found, expected)
        assert async_hints["return"] == twin_return(sync_hints["return"], async_func), name
        blocking = not inspect.iscoroutinefunction(async_func)
        blocking &= not inspect.isasyncgenfunction(async_func)
        if blocking:  # only pure computations may stay synchronous in the twin
            assert name in {"public_url", "limit_for", "from_settings", "from_url"}, name


def test_no_twin_takes_untyped_options() -> None:
    for name, func in public_methods(AsyncFileStore).items():
        if name == "from_url":  # settings overrides, as FileStore.from_url
            continue
        kinds = {p.kind for p in parameters(func)}
        assert inspect.Parameter.VAR_KEYWORD not in kinds, name
        assert inspect.Parameter.VAR_POSITIONAL not in kinds, name


def test_stores_say_whether_presigning_is_local(
    s3_server: S3Server, s3_credentials: Credentials, tmp_path: Path
) -> None:
    assert LocalStore(tmp_path).presign_is_local is True
    static = S3Store("b", endpoint_url=s3_server.endpoint_url, credentials=s3_credentials)
    assert static.presign_is_local is True
    chained = S3Store("b", endpoint_url=s3_server.endpoint_url, profile=None)
    assert chained.presign_is_local is False


@pytest.fixture
def refreshing_store(
    s3_server: S3Server, session_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> S3Store:
    """An S3Store whose credentials come from a slow credential_process that expires them
    within botocore's refresh window: every signature runs the process again, as an IAM role
    near the end of its session fetches new credentials over the network."""
    script = tmp_path / "credentials.py"
    script.write_text(
        "import json, time, datetime\n"
        "time.sleep(0.6)\n"
        "expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)\n"
        f"print(json.dumps({{'Version': 1, 'AccessKeyId': {s3_server.access_key!r},"
        f" 'SecretAccessKey': {s3_server.secret_key!r}, 'Expiration': expires.isoformat()}}))\n"
    )
    config = tmp_path / "aws-config"
    config.write_text(f"[profile slow]\ncredential_process = {sys.executable} {script}\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    return S3Store(
        session_bucket,
        prefix=f"refresh-{os.getpid()}",
        endpoint_url=s3_server.endpoint_url,
        region=s3_server.region,
        profile="slow",
    )


@pytest.mark.anyio
async def test_presigning_with_refreshing_credentials_leaves_the_loop_free(
    refreshing_store: S3Store,
) -> None:
    assert refreshing_store.presign_is_local is False
    files = AsyncFileStore(FileStore(refreshing_store))
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await anyio.sleep(0.01)

    started = time.monotonic()
    async with anyio.create_task_group() as group:
        group.start_soon(ticker)
        await anyio.sleep(0.05)
        download = await files.presign_download("docs/report.txt")
        await anyio.sleep(0.05)  # the ticker records a tick after each call
        upload = await files.presign_upload("up.txt", content_type="text/plain")
        await anyio.sleep(0.05)
        group.cancel_scope.cancel()
    elapsed = time.monotonic() - started
    assert elapsed >= 1.0, "the credential process did not run: the test proves nothing"
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert max(gaps) < 0.3, f"event loop blocked for {max(gaps):.2f}s while presigning"
    assert upload.method == "PUT" and download.method == "GET"


@pytest.mark.anyio
async def test_refreshed_credentials_sign_urls_the_store_accepts(
    refreshing_store: S3Store,
) -> None:
    files = AsyncFileStore(FileStore(refreshing_store))
    put = await files.presign_upload("up/note.txt", content_type="text/plain")
    sent = httpx.put(put.url, content=samples.text(), headers=dict(put.headers))
    assert sent.status_code == 200, sent.text
    get = await files.presign_download("up/note.txt")
    assert httpx.get(get.url).content == samples.text()
    await files.delete("up/note.txt")


async def chunks_of(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        await anyio.sleep(0)
        yield data[start : start + size]


@pytest.mark.anyio
async def test_receive_upload_stores_bytes_as_they_come(any_store: LocalStore | S3Store) -> None:
    files = AsyncFileStore(FileStore(any_store, policy=UploadPolicy()))
    body = samples.html()  # no upload policy: verification comes later, as on S3
    etag = await files.receive_upload(
        "signed/page.png", chunks_of(body, 7), content_type="image/png", max_size=len(body)
    )
    assert etag
    assert (await files.head("signed/page.png")).content_type == "image/png"
    assert await files.download("signed/page.png") == body
    with pytest.raises(FileTooLargeError) as caught:
        await files.receive_upload(
            "signed/big.bin", chunks_of(b"x" * 100, 10), content_type="a/b", max_size=99
        )
    assert caught.value.limit == 99
    with pytest.raises(EmptyFileError):
        await files.receive_upload(
            "signed/empty.bin", chunks_of(b"", 1), content_type="a/b", allow_empty=False
        )
    assert await files.receive_upload("signed/zero.bin", b"", content_type="a/b")
    assert [i.key for i in await files.search("signed/")] == ["signed/page.png", "signed/zero.bin"]


@pytest.mark.anyio
async def test_receive_part_is_for_the_local_store(any_store: LocalStore | S3Store) -> None:
    files = AsyncFileStore(FileStore(any_store, policy=UploadPolicy.permissive()))
    upload_id = await files.start_multipart("parts/blob.bin", content_type="application/zip")
    content = samples.zip_archive()
    try:
        if isinstance(any_store, S3Store):
            with pytest.raises(StoreError, match="receives parts itself"):
                await files.receive_part("parts/blob.bin", upload_id, 1, content, max_size=10**6)
            return
        etag = await files.receive_part(
            "parts/blob.bin", upload_id, 1, chunks_of(content, 50), max_size=len(content)
        )
        assert [(p.number, p.etag) for p in await files.list_parts("parts/blob.bin", upload_id)]
        assert await files.complete_multipart("parts/blob.bin", upload_id, [(1, etag)])
        assert await files.download("parts/blob.bin") == content
    finally:
        await files.abort_multipart("parts/blob.bin", upload_id)


@pytest.mark.anyio
async def test_stale_temporary_files(any_store: LocalStore | S3Store) -> None:
    files = AsyncFileStore(FileStore(any_store))
    cutoff = datetime.now(UTC) - timedelta(hours=1)
    if isinstance(any_store, S3Store):
        assert await files.stale_temporary_files(older_than=cutoff, remove=True) == 0
        return
    folder = any_store.root / ".s3files" / "tmp"
    old, fresh = folder / "killed-write", folder / "live-write"
    old.write_bytes(b"half")
    fresh.write_bytes(b"half")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    assert await files.stale_temporary_files(older_than=cutoff) == 1
    assert old.exists()
    assert await files.stale_temporary_files(older_than=cutoff, remove=True) == 1
    assert not old.exists() and fresh.exists()
    assert await files.stale_temporary_files(older_than=cutoff) == 0
