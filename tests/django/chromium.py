"""Debian's Chromium driven by Playwright on a thread of its own.

tests/browser holds a Playwright for the whole session on the main thread, and Playwright's
sync API refuses to start a second one there; on its own thread it can. Page code runs on
that thread: ``chromium.run(scenario, *args)`` calls ``scenario(browser, *args)`` there.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from tests.browser.conftest import CHROMIUM

T = TypeVar("T")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class ChromiumThread:
    """One Chromium, used only from one worker thread."""

    def __init__(self) -> None:
        if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
            raise RuntimeError("Chromium is missing: apt-get install -y chromium")
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="chromium")
        self._playwright: Any = None
        self._browser: Any = None
        self._thread.submit(self._start).result()

    def _start(self) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)

    def run(self, scenario: Callable[..., T], *args: Any) -> T:
        return self._thread.submit(scenario, self._browser, *args).result()

    def close(self) -> None:
        def stop() -> None:
            self._browser.close()
            self._playwright.stop()

        self._thread.submit(stop).result()
        self._thread.shutdown()
