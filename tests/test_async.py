"""AsyncFileStore: the same operations, awaited, with the event loop never blocked."""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections.abc import AsyncIterator

import anyio
import pytest

from s3files import AsyncFileStore, FileStore, ObjectNotFoundError, UploadPolicy
from s3files._errors import FileTooLargeError
from tests import samples

MiB = 1024 * 1024


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def async_files(any_store) -> AsyncFileStore:  # type: ignore[no-untyped-def]
    return AsyncFileStore(FileStore(any_store, policy=UploadPolicy.permissive(max_size=64 * MiB)))


@pytest.mark.anyio
async def test_async_round_trip(async_files: AsyncFileStore) -> None:
    content = os.urandom(12 * MiB)

    async def source() -> AsyncIterator[bytes]:
        for start in range(0, len(content), MiB):
            await anyio.sleep(0)
            yield content[start : start + MiB]

    stored = await async_files.upload(source(), filename="blob.bin", folder="async")
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert await async_files.exists(stored.key)
    digest = hashlib.sha256()
    async for chunk in async_files.iter_bytes(stored.key):
        digest.update(chunk)
    assert digest.hexdigest() == stored.sha256
    assert await async_files.download(stored.key, offset=5, length=10) == content[5:15]
    assert (await async_files.head(stored.key)).size == len(content)
    keys = [info.key async for info in async_files.iter_objects("async/", page_size=1)]
    assert keys == [stored.key]
    assert [i.key for i in (await async_files.list("async/")).items] == [stored.key]
    assert [i.key for i in await async_files.search("async")] == [stored.key]
    copied = await async_files.copy(stored.key, folder="copies")
    assert copied.size == len(content)
    presigned = await async_files.presign_download(stored.key)
    assert presigned.method == "GET"
    await async_files.delete(stored.key)
    with pytest.raises(ObjectNotFoundError):
        await async_files.head(stored.key)


@pytest.mark.anyio
async def test_event_loop_keeps_running_during_transfer(async_files: AsyncFileStore) -> None:
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await anyio.sleep(0.01)

    content = os.urandom(24 * MiB)
    async with anyio.create_task_group() as group:
        group.start_soon(ticker)
        stored = await async_files.upload(content, filename="loop.bin")
        data = await async_files.download(stored.key)
        group.cancel_scope.cancel()
    assert data == content
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 5
    assert max(gaps) < 0.5, f"event loop blocked for {max(gaps):.2f}s"


@pytest.mark.anyio
async def test_async_errors_and_cleanup(any_store) -> None:  # type: ignore[no-untyped-def]
    files = AsyncFileStore(FileStore(any_store, policy=UploadPolicy.permissive(max_size=MiB)))

    async def too_much() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b"x" * 512 * 1024

    with pytest.raises(FileTooLargeError):
        await files.upload(too_much(), filename="big.txt")
    assert (await files.list()).items == []
    async with files:
        stored = await files.upload(samples.text(), filename="t.txt")
        assert await files.download(stored.key) == samples.text()
