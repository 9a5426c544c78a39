"""Debian's Chromium driven by Playwright on a thread of its own.

tests/browser holds a Playwright for the whole session on the main thread, and Playwright's
sync API refuses to start a second one there; on its own thread it can. Page code runs on
that thread: ``chromium.run(scenario, *args)`` calls ``scenario(browser, *args)`` there.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from tests.browser.launch import start_chromium

T = TypeVar("T")


class ChromiumThread:
    """One Chromium, used only from one worker thread."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="chromium")
        self._playwright: Any = None
        self._browser: Any = None
        self._thread.submit(self._start).result()

    def _start(self) -> None:
        # Says which program failed and which libraries it lacks, if Chromium cannot start.
        self._playwright, self._browser = start_chromium()

    def run(self, scenario: Callable[..., T], *args: Any) -> T:
        return self._thread.submit(scenario, self._browser, *args).result()

    def close(self) -> None:
        def stop() -> None:
            self._browser.close()
            self._playwright.stop()

        self._thread.submit(stop).result()
        self._thread.shutdown()
