"""A real Chromium (Debian's, driven by Playwright) and a static server for test pages."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
PAGES = Path(__file__).parent / "pages"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium; the test command installs it (fail loudly if it is missing).

    Module-scoped: Playwright's sync API keeps an event loop running in the main thread,
    which async tests in later modules must not find."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        raise RuntimeError("Chromium is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        try:
            yield browser
        finally:
            browser.close()


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
