"""Helpers for the web file manager's browser tests: a page signed in, every request it
makes checked against the origins allowed, screenshots in one folder the test prints."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

TIMEOUT = 20_000
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "browser"


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def screenshots(name: str) -> Path:
    """``$S3FILES_SCREENSHOTS`` or ``test-artifacts/browser/<name>``, printed."""
    base = Path(os.environ.get("S3FILES_SCREENSHOTS") or ARTIFACTS)
    directory = base / name
    directory.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {directory}")
    return directory


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class Tab:
    """A page and what it did: errors, and requests to origins it should not talk to."""

    context: Any
    page: Any
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, url)


def open_tab(
    browser: Any,
    url: str,
    *,
    allowed: tuple[str, ...],
    width: int = 1280,
    height: int = 860,
    dark: bool = False,
) -> Tab:
    """A new page at ``url``; any request to an origin not in ``allowed`` (besides data:
    and blob:) is recorded in ``tab.foreign`` and refused, as with no internet."""
    context = browser.new_context(
        viewport={"width": width, "height": height},
        accept_downloads=True,
        color_scheme="dark" if dark else "light",
    )
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    tab = Tab(context, page)
    page.on("pageerror", lambda error: tab.errors.append(str(error)))

    def console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            tab.errors.append(message.text)

    page.on("console", console)

    def route(route: Any) -> None:
        request_url = route.request.url
        if request_url.startswith(("data:", "blob:")) or origin(request_url) in allowed:
            tab.requests.append((route.request.method, request_url))
            route.continue_()
        else:
            tab.foreign.append(request_url)
            route.abort()

    context.route("**/*", route)
    page.on("filechooser", lambda chooser: None)
    page.goto(url)
    return tab


def sign_in(page: Any, key: str) -> None:
    page.wait_for_selector("html[data-ready=true]")
    field_ = page.get_by_label("API key", exact=True)
    field_.fill(key)
    field_.press("Enter")
    expect(page.get_by_role("heading", name="Files", exact=True)).to_be_visible()


def rows(page: Any) -> Any:
    return page.locator("#file-rows tr")


def row(page: Any, name: str) -> Any:
    return rows(page).filter(has=page.get_by_role("button", name=name, exact=True))


def toast(page: Any) -> Any:
    return page.locator("#toast-text")


def photo(width: int = 640, height: int = 480, orientation: int | None = None) -> bytes:
    image = Image.new("RGB", (width, height), (40, 120, 200))
    image.paste((230, 160, 30), (0, 0, width // 3, height))
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(out, format="JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


def pdf() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 420), (30, 150, 60)).save(out, format="PDF")
    return out.getvalue()
