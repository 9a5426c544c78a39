"""A real Chromium (Debian's, driven by Playwright) and a static server for test pages."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.browser.launch import start_chromium

__all__ = ["browser", "pages_origin"]

PAGES = Path(__file__).parent / "pages"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium; the test command installs it. If it cannot start, the error says
    which program failed and which libraries it lacks (tests/browser/launch.py).

    Module-scoped: Playwright's sync API keeps an event loop running in the main thread,
    which async tests in later modules must not find."""
    playwright, browser = start_chromium()
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture(scope="session")
def pages_origin() -> Iterator[str]:
    """Serves tests/browser/pages from another origin than the service's."""
    handler = functools.partial(_QuietHandler, directory=str(PAGES))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
