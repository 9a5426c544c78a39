"""Feeding an async byte stream (a request body) to blocking code on a worker thread.

``pulled(source)`` starts a task that reads ``source`` on the event loop, ahead of the
consumer, into blocks of about ``BLOCK_BYTES`` (at most ``AHEAD_BLOCKS`` of them wait), and
gives the worker thread a plain iterator over those blocks' pieces: one hop to the loop per
block, and the body keeps arriving while the thread hashes, validates and uploads.

Why: the old bridge hopped to the loop for every piece the ASGI server handed over (uvicorn:
64-256 KiB, reading paused past 64 KiB until the app asks again), 4,000-16,000 hops per GB,
and nothing was read while the thread worked, so receiving and processing took turns. With
the read-ahead, a 1 GB upload through the service used 40 % less service CPU and the S3
server was left waiting for parts less (figures in bench/README.md).

Errors keep their meaning: an exception raised by ``source`` (client gone, body too slow)
is raised in the thread, the same object, where the consumer aborts; if the read-ahead is
cancelled before the end, the thread's next pull raises (the cancellation itself, or
``SourceInterrupted``), never a short, complete-looking stream. Memory per stream: about
``(AHEAD_BLOCKS + 1) * BLOCK_BYTES`` plus one piece.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import asynccontextmanager

import anyio
import anyio.from_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["AHEAD_BLOCKS", "BLOCK_BYTES", "SourceInterrupted", "pulled"]

BLOCK_BYTES = 1024 * 1024
AHEAD_BLOCKS = 2


class SourceInterrupted(Exception):
    """The stream stopped before its end without an error of its own (cancelled)."""


class _Outcome:
    def __init__(self) -> None:
        self.finished = False
        self.error: BaseException | None = None


async def _read_ahead(
    source: AsyncIterable[bytes], blocks: MemoryObjectSendStream[list[bytes]], outcome: _Outcome
) -> None:
    async with blocks:
        try:
            block: list[bytes] = []
            size = 0
            async for piece in source:
                if not piece:
                    continue
                block.append(piece)
                size += len(piece)
                if size >= BLOCK_BYTES:
                    await blocks.send(block)
                    block, size = [], 0
            if block:
                await blocks.send(block)
            outcome.finished = True
        except anyio.BrokenResourceError:  # the consumer stopped reading
            return
        except Exception as exc:  # raised in the consumer's thread instead
            outcome.error = exc


def _pieces(blocks: MemoryObjectReceiveStream[list[bytes]], outcome: _Outcome) -> Iterator[bytes]:
    """The worker thread's side: one hop to the loop per block."""
    while True:
        try:
            block = anyio.from_thread.run(blocks.receive)
        except anyio.EndOfStream:
            break
        yield from block
    if outcome.error is not None:
        raise outcome.error  # the source's own exception, unchanged
    if not outcome.finished:
        raise SourceInterrupted("the stream was interrupted")


@asynccontextmanager
async def pulled(source: AsyncIterable[bytes]) -> AsyncIterator[Iterator[bytes]]:
    """A blocking iterator over ``source``'s pieces, read ahead (module docstring); use it
    only on a worker thread, inside the ``async with`` block."""
    sender, receiver = anyio.create_memory_object_stream[list[bytes]](AHEAD_BLOCKS)
    outcome = _Outcome()
    failure: Exception | None = None
    async with anyio.create_task_group() as group:
        group.start_soon(_read_ahead, source, sender, outcome)
        try:
            with receiver:
                yield _pieces(receiver, outcome)
        except Exception as exc:  # raised below, as it is (not in an ExceptionGroup)
            failure = exc
        finally:
            group.cancel_scope.cancel()  # the consumer is done (or failed): stop reading
    if failure is not None:
        raise failure
