"""``s3files._pulling``: an async body read ahead for a worker thread keeps every byte, in
order, and every failure (the source's own exception, the consumer's, a cancellation)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio
import anyio.to_thread
import pytest

from s3files._pulling import BLOCK_BYTES, SourceInterrupted, pulled


class ClientGone(Exception):
    pass


async def pieces(count: int, size: int, *, fail: bool = False) -> AsyncIterator[bytes]:
    for index in range(count):
        await anyio.sleep(0)
        yield bytes([index % 256]) * size
    if fail:
        raise ClientGone("the client went away")


def collect(stream: Iterator[bytes], stop_after: int | None = None) -> bytes:
    out = bytearray()
    for piece in stream:
        out += piece
        if stop_after is not None and len(out) > stop_after:
            raise ValueError("too large")
    return bytes(out)


def test_every_byte_arrives_in_order() -> None:
    expected = b"".join(bytes([i % 256]) * 70_000 for i in range(60))

    async def main() -> bytes:
        async with pulled(pieces(60, 70_000)) as stream:
            return await anyio.to_thread.run_sync(collect, stream)

    received = anyio.run(main)
    assert len(received) == len(expected) > 3 * BLOCK_BYTES
    assert received == expected


def test_the_sources_exception_reaches_the_consumer_unwrapped() -> None:
    async def main() -> None:
        async with pulled(pieces(30, 100_000, fail=True)) as stream:
            await anyio.to_thread.run_sync(collect, stream)

    with pytest.raises(ClientGone, match="went away"):
        anyio.run(main)


def test_the_consumers_exception_stops_the_read_ahead() -> None:
    read: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        while True:
            await anyio.sleep(0)
            read.append(1)
            yield b"x" * 65_536

    async def main() -> None:
        async with pulled(endless()) as stream:
            await anyio.to_thread.run_sync(collect, stream, 300_000)

    with pytest.raises(ValueError, match="too large"):
        anyio.run(main)
    # read ahead by at most the blocks waiting, the one being filled and the one consumed
    assert len(read) * 65_536 < 5 * BLOCK_BYTES


async def _cancelled_class() -> type[BaseException]:
    return anyio.get_cancelled_exc_class()


def test_a_cancelled_read_ahead_is_never_a_complete_looking_stream() -> None:
    outcome: list[BaseException | bytes] = []

    async def slow() -> AsyncIterator[bytes]:
        while True:
            await anyio.sleep(0.001)
            yield b"y" * 10

    def consume(stream: Iterator[bytes]) -> None:
        try:
            outcome.append(collect(stream))
        except BaseException as exc:
            outcome.append(exc)
            raise

    async def main() -> None:
        with anyio.move_on_after(0.05):
            async with pulled(slow()) as stream:
                await anyio.to_thread.run_sync(consume, stream)

    cancelled = anyio.run(_cancelled_class)
    anyio.run(main)
    assert len(outcome) == 1
    # the thread's next pull fails (the cancellation, or SourceInterrupted if the read-ahead
    # ended first): the consumer aborts instead of storing a short stream
    assert isinstance(outcome[0], BaseException)
    assert isinstance(outcome[0], SourceInterrupted | cancelled)
