"""Pages fetched ahead on a thread of their own, consumed from the event loop.

Listing is a chain: each page's continuation token is needed for the next request. Run
page by page from the event loop, every link would wait for two hand-offs between the
loop and a worker thread. Here one producer thread walks the chain as a plain paginator
does (request, parse, next request), at most ``depth`` pages ahead of the consumer, whose
own work then overlaps the next request. Memory holds at most ``depth + 2`` pages.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import AsyncGenerator, Callable
from typing import Protocol, TypeVar

import anyio
import anyio.to_thread

__all__ = ["Page", "prefetched_pages"]


class Page(Protocol):
    @property
    def next_continuation_token(self) -> str | None: ...


_PageT = TypeVar("_PageT", bound=Page)
_END = object()
_POLL = 0.1  # seconds between checks for "stop" while the queue is full or empty


async def prefetched_pages(
    fetch: Callable[[str | None], _PageT],
    *,
    depth: int = 2,
    threads: anyio.CapacityLimiter | None = None,
) -> AsyncGenerator[_PageT, None]:
    """``fetch(None)``, then ``fetch(token)`` for each page's continuation token, run on a
    producer thread; errors raised by ``fetch`` are raised here, in order. Closing the
    generator stops the producer after its current request."""
    pages: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(item: object) -> bool:
        while not stop.is_set():
            try:
                pages.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        token: str | None = None
        try:
            while True:
                page = fetch(token)
                if not hand_over(page):
                    return
                token = page.next_continuation_token
                if token is None:
                    break
            hand_over(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            hand_over(exc)

    def take() -> object:
        while not stop.is_set():
            try:
                return pages.get(timeout=_POLL)
            except queue.Empty:
                continue
        return _END

    producer = threading.Thread(target=produce, name="s3files-listing", daemon=True)
    producer.start()
    try:
        while True:
            item = await anyio.to_thread.run_sync(take, abandon_on_cancel=True, limiter=threads)
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]  # only pages and the markers go in the queue
    finally:
        stop.set()
