"""The web file manager's folders, previews, selection and keyboard, in Chromium, on the
local disk and on Ceph RGW: breadcrumbs and subfolders, new folder, rename in place (F2),
move by the folder picker and by dragging onto a folder row and a breadcrumb, zip of a
folder, trash and restore of a folder, multi-select with bulk actions, server-side sort,
thumbnails and the preview pane, grouped upload refusals checked before sending, Empty
trash; the folder, the trash and the search in the URL (Back/Forward, reload, a link
opened after sign-in); F2 and Delete from the details panel; an admin's owner column; the
phone's one-line row facts and a message that covers no row; screenshots at desktop and
phone width and in dark mode (the folder is printed).
No request leaves the service (and, on RGW, the store the bytes go to)."""

from __future__ import annotations

import io
import wave
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from s3files.stores.s3 import S3Store
from s3files.validation import DEFAULT_ALLOWED_EXTENSIONS, DEFAULT_ALLOWED_MIME_TYPES
from tests.browser._manager import (
    expect,
    open_tab,
    origin,
    pdf,
    photo,
    row,
    rows,
    screenshots,
    sign_in,
    toast,
)
from tests.server.conftest import Service, make_service


@pytest.fixture(scope="module", params=["local", "s3"])
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    running = make_service(
        tmp_path_factory.mktemp(f"web-{request.param}"),
        request,
        request.param,
        "sqlite",
        s3_max_file_size_mb=1,
        s3_allowed_extensions=DEFAULT_ALLOWED_EXTENSIONS | {"wav"},
        s3_allowed_mime_types=DEFAULT_ALLOWED_MIME_TYPES | {"audio/x-wav", "audio/wav"},
    )
    service = next(running)
    store = service.library().store
    if isinstance(store, S3Store):
        store.configure_cors([service.url])  # the page is the service's; bytes go to RGW
    try:
        yield service
    finally:
        next(running, None)


def allowed(service: Service) -> tuple[str, ...]:
    endpoint = service.settings.s3_endpoint_url
    return (service.url, origin(endpoint)) if endpoint else (service.url,)


def api(service: Service) -> Any:
    return service.client("alice")


def store_name(service: Service) -> str:
    return "rgw" if service.settings.s3_endpoint_url else "local"


def tone() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\0\0" * 4000)
    return out.getvalue()


def settled(page: Any) -> None:
    """The list's last load is over (rows are not about to be rebuilt)."""
    expect(page.locator("#file-table")).not_to_have_attribute("aria-busy", "true")


def one_meta_line(page: Any) -> None:
    """At phone width each row's facts are one line under its name: size · type · date."""
    for phone_row in rows(page).all():
        name_box = phone_row.locator(".col-name").bounding_box()
        size_box = phone_row.locator(".col-size").bounding_box()
        type_box = phone_row.locator(".col-type").bounding_box()
        assert size_box["y"] >= name_box["y"] + name_box["height"] - 1, phone_row.inner_text()
        assert abs(size_box["y"] - type_box["y"]) < 2, phone_row.inner_text()


def choose_files(page: Any, paths: list[Path]) -> None:
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload files").click()
    chooser.value.set_files([str(path) for path in paths])


def test_folders_previews_selection_and_keys(
    browser: Any, service: Service, tmp_path: Path
) -> None:
    shots = screenshots(f"file-manager-{store_name(service)}")
    files = {
        "beach.jpg": photo(1600, 1200),
        "notes.txt": b"Packing list\n- towel\n- <b>not bold</b>\n",
        "guide.pdf": pdf(),
    }
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    tab = open_tab(browser, f"{service.url}/", allowed=allowed(service))
    page = tab.page
    sign_in(page, service.keys["alice"])

    # The header names who is signed in and what they use.
    expect(page.locator("#session-label")).to_have_text("alice")
    expect(page.locator("#usage-text")).to_contain_text("used")

    # A new folder, opened with the keyboard: breadcrumbs follow.
    page.get_by_role("button", name="New folder").click()
    dialog = page.get_by_role("dialog", name="New folder")
    dialog.get_by_label("Folder name").fill("Holiday trip")
    dialog.get_by_label("Folder name").press("Enter")
    expect(row(page, "Holiday trip")).to_contain_text("0 files")
    row(page, "Holiday trip").get_by_role("button", name="Holiday trip").focus()
    page.keyboard.press("Enter")
    crumbs = page.get_by_role("navigation", name="Folder path")
    expect(crumbs.get_by_role("button", name="Holiday trip")).to_have_attribute(
        "aria-current", "location"
    )

    # The folder is in the address: Back and Forward go between folders, a reload keeps it.
    expect(page).to_have_url(f"{service.url}/#/files/Holiday%20trip")
    page.go_back()
    expect(crumbs.get_by_role("button", name="All files")).to_have_attribute(
        "aria-current", "location"
    )
    expect(row(page, "Holiday trip")).to_be_visible()
    page.go_forward()
    expect(crumbs.get_by_role("button", name="Holiday trip")).to_have_attribute(
        "aria-current", "location"
    )
    page.reload()
    expect(crumbs.get_by_role("button", name="Holiday trip")).to_have_attribute(
        "aria-current", "location"
    )
    expect(page.get_by_text("This folder is empty")).to_be_visible()

    # Uploads into it; the panel folds to its summary once all are done.
    choose_files(page, [tmp_path / name for name in files])
    expect(page.locator("#uploads-summary")).to_have_text("3 uploaded", timeout=60_000)
    expect(page.locator("#uploads-toggle")).to_have_attribute("aria-expanded", "false")
    expect(rows(page)).to_have_count(3)

    # A thumbnail in the list, from the service, shown from a blob: URL.
    thumb = row(page, "beach.jpg").locator(".thumb img")
    expect(thumb).to_be_visible()
    assert thumb.evaluate("img => img.src.startsWith('blob:') && img.naturalWidth > 0")
    expect(row(page, "notes.txt").locator(".thumb svg")).to_be_visible()  # an icon per type

    # Preview pane: the image, a PDF's first page, the start of a text file as text.
    row(page, "beach.jpg").get_by_role("button", name="beach.jpg").click()
    expect(page.get_by_role("img", name="Preview of beach.jpg")).to_be_visible()
    page.screenshot(path=str(shots / "01-desktop-preview-image.png"))
    row(page, "guide.pdf").get_by_role("button", name="guide.pdf").click()
    expect(page.get_by_role("img", name="First page of guide.pdf")).to_be_visible()
    row(page, "notes.txt").get_by_role("button", name="notes.txt").click()
    text = page.locator("#details .preview-text")
    expect(text).to_contain_text("<b>not bold</b>")  # as text, never as HTML
    assert page.locator("#details .preview b").count() == 0
    page.screenshot(path=str(shots / "02-desktop-preview-text.png"))
    page.keyboard.press("Escape")
    expect(page.locator("#details")).to_be_hidden()

    # Sort by the service: size, largest first, then by name.
    page.get_by_role("button", name="Size", exact=True).click()
    expect(page.get_by_role("columnheader", name="Size")).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(rows(page).first).to_contain_text("beach.jpg")
    assert any("sort=size" in url and "order=desc" in url for _, url in tab.requests)
    page.get_by_role("button", name="Name", exact=True).click()
    expect(page.get_by_role("columnheader", name="Name")).to_have_attribute(
        "aria-sort", "ascending"
    )
    settled(page)
    expect(rows(page).first).to_contain_text("beach.jpg")
    expect(rows(page).last).to_contain_text("notes.txt")

    # Paging keeps the service's order: two a page, by name.
    paged = open_tab(browser, f"{service.url}/?pageSize=2", allowed=allowed(service))
    sign_in(paged.page, service.keys["alice"])
    paged.page.get_by_role("button", name="Holiday trip").click()
    expect(rows(paged.page)).to_have_count(2)
    paged.page.get_by_role("button", name="Name", exact=True).click()
    expect(paged.page.get_by_role("columnheader", name="Name")).to_have_attribute(
        "aria-sort", "descending"
    )
    settled(paged.page)
    paged.page.get_by_role("button", name="Load more").click()
    expect(rows(paged.page)).to_have_count(3)
    assert [r.locator(".file-name-text").inner_text() for r in rows(paged.page).all()] == [
        "notes.txt",
        "guide.pdf",
        "beach.jpg",
    ]
    expect(paged.page.get_by_role("button", name="Load more")).to_be_hidden()
    assert paged.errors == [] and paged.foreign == []
    paged.context.close()

    # Rename in place with F2, after a click that opened the details (and took the focus).
    row(page, "notes.txt").get_by_role("button", name="notes.txt").click()
    expect(page.locator("#details-heading")).to_be_focused()
    page.keyboard.press("F2")
    field = page.get_by_role("textbox", name="New name for notes.txt")
    expect(field).to_be_focused()
    field.fill("packing list.txt")
    field.press("Enter")
    expect(row(page, "packing list.txt")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator("#details")).to_be_hidden()

    # Multi-select: a checkbox, then Shift-click for the range; Ctrl+A for all.
    names = ["beach.jpg", "guide.pdf", "packing list.txt"]
    expect(rows(page).first).to_contain_text(names[0])
    rows(page).nth(0).get_by_role("checkbox").click()
    rows(page).nth(2).get_by_role("checkbox").click(modifiers=["Shift"])
    expect(page.locator("#bulk-count")).to_have_text("3 files selected")
    page.keyboard.press("Escape")
    expect(page.locator("#bulk")).to_be_hidden()
    row(page, "guide.pdf").get_by_role("button", name="guide.pdf").focus()
    page.keyboard.press("Control+a")
    expect(page.locator("#bulk-count")).to_have_text("3 files selected")
    page.keyboard.press("Escape")

    # "/" goes to the search field.
    page.keyboard.press("/")
    expect(page.get_by_label("Search in this folder")).to_be_focused()
    page.keyboard.type("beach")  # the search goes in the address too, and F2 types there
    expect(page).to_have_url(f"{service.url}/#/files/Holiday%20trip?q=beach")
    expect(rows(page)).to_have_count(1)
    page.keyboard.press("F2")
    expect(page.locator(".rename-field")).to_have_count(0)
    page.get_by_label("Search in this folder").fill("")
    expect(rows(page)).to_have_count(3)
    expect(page).to_have_url(f"{service.url}/#/files/Holiday%20trip")

    # Arrow keys move through the rows; Space selects.
    rows(page).nth(0).get_by_role("button", name=names[0]).focus()
    page.keyboard.press("ArrowDown")
    expect(rows(page).nth(1).get_by_role("button", name=names[1])).to_be_focused()
    page.keyboard.press("Space")
    expect(rows(page).nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Escape")

    # A subfolder; a file dragged onto its row moves into it.
    page.get_by_role("button", name="New folder").click()
    page.get_by_role("dialog", name="New folder").get_by_label("Folder name").fill("2026")
    page.keyboard.press("Enter")
    expect(row(page, "2026")).to_be_visible()
    expect(rows(page).first).to_contain_text("2026")  # folders first
    row(page, "2026").get_by_role("button", name="2026").focus()
    page.keyboard.press("F2")
    page.get_by_role("textbox", name="New name for 2026").fill("2026 summer")
    page.keyboard.press("Enter")
    expect(toast(page)).to_have_text("Renamed folder to “2026 summer”")
    settled(page)
    page.get_by_role("button", name="2026 summer").focus()
    page.keyboard.press("F2")
    page.get_by_role("textbox", name="New name for 2026 summer").fill("2026")
    page.keyboard.press("Enter")
    expect(row(page, "2026")).to_be_visible()
    settled(page)
    row(page, "guide.pdf").drag_to(row(page, "2026"))
    expect(toast(page)).to_contain_text("Moved “guide.pdf” to “Holiday trip/2026”")
    expect(row(page, "2026")).to_contain_text("1 file")

    # A link to a folder opens it once signed in.
    linked = open_tab(
        browser, f"{service.url}/#/files/Holiday%20trip/2026", allowed=allowed(service)
    )
    sign_in(linked.page, service.keys["alice"])
    linked_crumbs = linked.page.get_by_role("navigation", name="Folder path")
    expect(linked_crumbs.get_by_role("button", name="2026")).to_have_attribute(
        "aria-current", "location"
    )
    expect(rows(linked.page)).to_have_count(1)
    expect(row(linked.page, "guide.pdf")).to_be_visible()
    assert linked.errors == [] and linked.foreign == []
    linked.context.close()

    # Move with the folder picker: the photo to the top level.
    row(page, "beach.jpg").get_by_role("checkbox").click()
    page.get_by_role("button", name="Move…").click()
    picker = page.get_by_role("dialog", name="Move 1 item to…")
    picker.get_by_role("navigation").get_by_role("button", name="Top level").click()
    expect(picker.get_by_role("option", name="Holiday trip")).to_be_visible()
    page.screenshot(path=str(shots / "03-desktop-move-picker.png"))
    picker.get_by_role("button", name="Move to the top level").click()
    expect(toast(page)).to_contain_text("Moved “beach.jpg” to the top level")
    expect(row(page, "beach.jpg")).to_have_count(0)

    # The text file dragged onto the "All files" breadcrumb.
    row(page, "packing list.txt").drag_to(crumbs.get_by_role("button", name="All files"))
    expect(toast(page)).to_contain_text("to the top level")
    with api(service) as client:
        top = {
            i["original_filename"]
            for i in client.get("/api/v1/files", params={"folder": ""}).json()["items"]
        }
        inside = client.get("/api/v1/files", params={"folder": "Holiday trip/2026"}).json()["items"]
    assert top == {"beach.jpg", "packing list.txt"}
    assert [i["original_filename"] for i in inside] == ["guide.pdf"]

    # Back at the top: the folder as a zip.
    crumbs.get_by_role("button", name="All files").click()
    expect(row(page, "Holiday trip")).to_contain_text("1 file")
    settled(page)
    expect(rows(page)).to_have_count(3)  # the folder, then the two files at the top level
    expect(row(page, "guide.pdf")).to_have_count(0)
    row(page, "Holiday trip").get_by_role("checkbox").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download zip").click()
    # a download the browser streamed to disk from a signed link (no key in it), not a blob
    # the page held in memory
    assert download.value.url.startswith(f"{service.url}/api/v1/zip-links/"), download.value.url
    assert download.value.suggested_filename == "Holiday trip.zip"
    with httpx.Client() as anonymous:
        assert anonymous.get(download.value.url).status_code == 200  # the link needs no key
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert [n for n in archive.namelist() if not n.endswith("/")] == ["2026/guide.pdf"] or any(
        n.endswith("2026/guide.pdf") for n in archive.namelist()
    ), archive.namelist()
    page.screenshot(path=str(shots / "04-desktop-folders.png"))

    # The folder to the trash with Delete, back with Undo.
    row(page, "Holiday trip").get_by_role("button", name="Holiday trip").focus()
    page.keyboard.press("Escape")
    row(page, "Holiday trip").get_by_role("button", name="Holiday trip").focus()
    page.keyboard.press("Delete")
    expect(toast(page)).to_have_text("Moved “Holiday trip” to the trash")
    expect(row(page, "Holiday trip")).to_have_count(0)
    page.locator("#toast").get_by_role("button", name="Undo").click()
    expect(row(page, "Holiday trip")).to_be_visible()

    # Audio in the browser's own player (a signed URL: Range requests reach the store).
    (tmp_path / "tone.wav").write_bytes(tone())
    choose_files(page, [tmp_path / "tone.wav"])
    expect(page.locator("#uploads-summary")).to_have_text("4 uploaded", timeout=60_000)
    row(page, "tone.wav").get_by_role("button", name="tone.wav").click()
    player = page.locator("#details audio")
    expect(player).to_have_attribute("controls", "")
    page.wait_for_function("() => document.querySelector('#details audio')?.readyState >= 1")
    assert player.evaluate("a => a.duration") == pytest.approx(0.5, abs=0.05)
    page.locator("#details-heading").focus()  # Delete from the details panel trashes its file
    page.keyboard.press("Delete")
    expect(toast(page)).to_have_text("Moved “tone.wav” to the trash")
    expect(row(page, "tone.wav")).to_have_count(0)
    expect(page.locator("#details")).to_be_hidden()
    page.locator("#toast").get_by_role("button", name="Undo").click()
    expect(row(page, "tone.wav")).to_have_count(1)
    page.keyboard.press("Escape")
    settled(page)
    row(page, "tone.wav").get_by_role("checkbox").click()
    page.locator("#bulk").get_by_role("button", name="Move to trash").click()
    expect(row(page, "tone.wav")).to_have_count(0)
    page.locator("#toast").get_by_role("button", name="Undo").click()
    expect(row(page, "tone.wav")).to_have_count(1)
    settled(page)

    # Three files to the trash at once: one restored, one deleted for good, then Empty trash.
    rows(page).filter(has_text="beach.jpg").get_by_role("checkbox").click()
    rows(page).filter(has_text="packing list.txt").get_by_role("checkbox").click()
    rows(page).filter(has_text="tone.wav").get_by_role("checkbox").click()
    expect(page.locator("#bulk-count")).to_have_text("3 files selected")
    page.locator("#bulk").get_by_role("button", name="Move to trash").click()
    expect(toast(page)).to_have_text("Moved 3 files to the trash")
    page.get_by_role("button", name="Trash", exact=True).click()
    expect(rows(page)).to_have_count(3)
    expect(page).to_have_url(f"{service.url}/#/trash")
    expect(page.get_by_label("Search the trash")).to_be_visible()
    rows(page).filter(has_text="beach.jpg").get_by_role("checkbox").click()
    page.locator("#bulk").get_by_role("button", name="Restore").click()
    expect(rows(page)).to_have_count(2)
    settled(page)
    rows(page).filter(has_text="packing list.txt").get_by_role("checkbox").click()
    page.locator("#bulk").get_by_role("button", name="Delete for good").click()
    page.get_by_role("dialog", name="Delete for good?").get_by_role(
        "button", name="Delete for good"
    ).click()
    expect(toast(page)).to_have_text("Deleted “packing list.txt” for good")
    expect(rows(page)).to_have_count(1)
    page.screenshot(path=str(shots / "05-desktop-trash.png"))
    page.get_by_role("button", name="Empty trash").click()
    page.get_by_role("dialog", name="Empty the trash?").get_by_role(
        "button", name="Empty trash"
    ).click()
    expect(page.get_by_text("The trash is empty")).to_be_visible()
    expect(page.get_by_role("button", name="Empty trash")).to_be_disabled()
    page.get_by_role("button", name="Back to files").click()
    expect(page).to_have_url(f"{service.url}/#/files")
    with api(service) as client:
        assert client.get("/api/v1/usage").json()["trash_files"] == 0

    # Refusals known from /api/v1/config: nothing sent, one message for both.
    (tmp_path / "big.pdf").write_bytes(pdf() + b"\0" * (2 * 1024 * 1024))
    (tmp_path / "tool.exe").write_bytes(b"MZ" + b"\0" * 100)
    before = sum(1 for method, url in tab.requests if method == "POST" and "/uploads" in url)
    choose_files(page, [tmp_path / "big.pdf", tmp_path / "tool.exe"])
    expect(toast(page)).to_have_text(
        "2 files were not uploaded: “big.pdf” (this file is larger than the limit (1 MB)), "
        "“tool.exe” (files of type .exe are not allowed)"
    )
    assert (
        sum(1 for method, url in tab.requests if method == "POST" and "/uploads" in url) == before
    )
    expect(page.locator("#uploads-toggle")).to_have_attribute("aria-expanded", "true")
    page.get_by_role("button", name="Clear finished").click()

    # Phone width: the list first, uploading is a button, no drop zone.
    page.set_viewport_size({"width": 390, "height": 800})
    expect(page.locator("#dropzone")).to_be_hidden()
    expect(page.get_by_role("button", name="Upload files")).to_be_visible()
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 8)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
    one_meta_line(page)
    page.screenshot(path=str(shots / "06-phone-list.png"), full_page=True)
    row(page, "beach.jpg").get_by_role("button", name="beach.jpg").click()
    expect(page.get_by_role("img", name="Preview of beach.jpg")).to_be_visible()
    page.screenshot(path=str(shots / "07-phone-preview.png"))
    assert tab.errors == [] and tab.foreign == []
    tab.context.close()

    # Dark mode, desktop and phone.
    for width, name in ((1280, "08-dark-desktop.png"), (390, "09-dark-phone.png")):
        dark = open_tab(
            browser, f"{service.url}/", allowed=allowed(service), width=width, dark=True
        )
        sign_in(dark.page, service.keys["alice"])
        expect(row(dark.page, "Holiday trip")).to_be_visible()
        expect(row(dark.page, "beach.jpg").locator(".thumb img")).to_be_visible()
        dark.page.screenshot(path=str(shots / name), full_page=True)
        assert dark.errors == [] and dark.foreign == []
        dark.context.close()

    # An administrator sees every owner's files, with an owner column; the usage is their own.
    with service.client("bob") as client:
        for name in ("b.txt", "b1.txt", "b2.txt", "b3.txt"):  # rows down to the screen's foot
            client.post(
                "/api/v1/files/upload", files={"file": (name, b"bob's", "text/plain")}
            ).raise_for_status()
    admin = open_tab(browser, f"{service.url}/", allowed=allowed(service))
    sign_in(admin.page, service.keys["root"])
    expect(admin.page.get_by_role("columnheader", name="Owner")).to_be_visible()
    expect(row(admin.page, "b.txt").locator(".col-owner")).to_have_text("bob")
    expect(row(admin.page, "beach.jpg").locator(".col-owner")).to_have_text("alice")
    expect(admin.page.locator("#usage-text")).to_contain_text("Your own files:")
    admin.page.screenshot(path=str(shots / "10-admin-desktop.png"))
    assert admin.errors == [] and admin.foreign == []
    admin.context.close()
    admin = open_tab(browser, f"{service.url}/", allowed=allowed(service), width=390, height=844)
    sign_in(admin.page, service.keys["root"])  # the "Signed in" message covers no row
    expect(toast(admin.page)).to_have_text("Signed in")
    expect(row(admin.page, "b.txt")).to_contain_text("bob")
    one_meta_line(admin.page)  # "5 B" fits beside the name, and stays below it
    shown = admin.page.locator("#toast").bounding_box()
    for admin_row in rows(admin.page).all():
        box = admin_row.bounding_box()
        assert box["y"] >= shown["y"] + shown["height"] or box["y"] + box["height"] <= shown["y"]
    admin.page.screenshot(path=str(shots / "11-admin-phone.png"))
    assert admin.errors == [] and admin.foreign == []
    admin.context.close()
