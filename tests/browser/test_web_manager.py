"""The web file manager at ``/``, driven in Debian's Chromium with real clicks and keys.

Over Ceph RGW: sign in, upload two files with visible progress (one by presigned POST, one
in multipart parts), search, folder filter, pagination, download one byte-identical, a
presigned link, edit description and metadata, make public, copy to a folder, move to the
trash, restore, delete for good, and refused uploads with their messages; then the phone
width. Over the local-disk store: the same upload and download core through the service's
signed URLs. Screenshots of the main views go to ``$S3FILES_SCREENSHOTS`` (or tmp_path).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from s3files.stores.s3 import S3Store
from tests import samples
from tests.server.conftest import Service, make_service

MiB = 1024 * 1024
TIMEOUT = 30_000

# Records every value the upload progress bars take, to prove progress was shown.
WATCH_PROGRESS = """() => {
  window.progressSeen = [];
  const list = document.getElementById("upload-list");
  new MutationObserver(() => {
    for (const bar of list.querySelectorAll("progress")) {
      window.progressSeen.push([bar.getAttribute("aria-label"), bar.value, bar.max]);
    }
  }).observe(list, { subtree: true, childList: true, attributes: true, characterData: true });
}"""

# Files built inside the page and dropped on the drop zone, as a drag from the desktop does.
DROP_FILES = """([pdf, hugeSize]) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([new Uint8Array(pdf)], "fake.png", { type: "image/png" }));
  transfer.items.add(new File([new Uint8Array(hugeSize)], "huge.pdf", { type: "application/pdf" }));
  return transfer;
}"""


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("S3FILES_SCREENSHOTS") or tmp_path / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def rgw_service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    running = make_service(tmp_path, request, "s3", "sqlite", s3_max_file_size_mb=20)
    service = next(running)
    store = service.library().store
    assert isinstance(store, S3Store)
    store.configure_cors([service.url])  # the page is served by the service; bytes go to RGW
    try:
        yield service
    finally:
        next(running, None)


@pytest.fixture
def local_service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    yield from make_service(tmp_path / "local", request, "local", "sqlite", s3_max_file_size_mb=1)


def open_manager(browser: Any, service: Service, query: str = "") -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=service.url)
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def console(message: Any) -> None:  # refused requests are logged by Chromium: expected
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.on("console", console)
    # Turn Playwright's file-chooser interception on now: enabled lazily by
    # expect_file_chooser, it can lose the race with the key press that opens the picker.
    page.on("filechooser", lambda chooser: None)
    page.goto(f"{service.url}/{query}")
    page.wait_for_selector("html[data-ready=true]")
    return context, page, errors


def sign_in(page: Any, key: str) -> None:
    field = page.get_by_label("API key", exact=True)
    field.fill(key)
    field.press("Enter")
    expect(page.get_by_role("heading", name="Files", exact=True)).to_be_visible()


def rows(page: Any) -> Any:
    return page.locator("#file-rows tr")


def row(page: Any, name: str) -> Any:
    return rows(page).filter(has=page.get_by_role("button", name=name, exact=True))


def open_details(page: Any, name: str, folder: str | None = None) -> None:
    found = row(page, name)
    if folder is not None:
        found = found.filter(has=page.get_by_role("cell", name=folder, exact=True))
    button = found.get_by_role("button", name=name, exact=True)
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#details-heading")).to_have_text(name)
    expect(page.locator("#details-heading")).to_be_focused()


def toast(page: Any) -> Any:
    return page.locator("#toast-text")


def download_bytes(page: Any) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.locator("#details").get_by_role("button", name="Download").click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def throttle(cdp: Any, upload_bytes_per_second: int) -> None:
    conditions = {"offline": False, "latency": 0, "downloadThroughput": -1}
    cdp.send(
        "Network.emulateNetworkConditions",
        {**conditions, "uploadThroughput": upload_bytes_per_second},
    )


def api(service: Service) -> httpx.Client:
    return service.client("alice")


def test_web_manager_on_rgw(
    browser: Any, rgw_service: Service, tmp_path: Path, shots: Path
) -> None:
    service = rgw_service
    report = tmp_path / "report.pdf"
    report.write_bytes(samples.pdf() + os.urandom(12 * MiB))  # multipart: above the 8 MiB threshold
    photo = tmp_path / "photo.png"
    photo.write_bytes(samples.png() + b"\0" * 300_000)  # presigned POST

    context, page, errors = open_manager(browser, service, f"?partThreshold={8 * MiB}&pageSize=2")

    # Sign in: a wrong key is refused with a message, the right one is kept for the tab.
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("API key", exact=True)).to_be_focused()
    page.screenshot(path=str(shots / "01-sign-in.png"))
    page.keyboard.type("s3f_not_a_real_key")
    page.keyboard.press("Enter")
    expect(page.locator("#sign-in-error")).to_have_text("That key was not accepted")
    sign_in(page, service.keys["alice"])
    assert page.evaluate("sessionStorage.getItem('s3files:api-key')") == service.keys["alice"]
    expect(page.get_by_text("No files yet")).to_be_visible()

    # Upload two files into a new folder "reports", chosen through the keyboard-operable drop
    # zone, with the upload bandwidth throttled so that the progress is seen moving.
    page.get_by_role("button", name="New folder").click()
    page.get_by_label("Folder name").fill("reports")
    page.keyboard.press("Enter")
    page.locator("#file-rows").get_by_role("button", name="reports").click()
    expect(page.locator("#dropzone-hint")).to_have_text("Files go to folder “reports”.")
    page.evaluate(WATCH_PROGRESS)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    throttle(cdp, 8 * MiB)
    page.get_by_role("button", name=re.compile("^Drop files here")).focus()
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    assert chooser.value.is_multiple()
    chooser.value.set_files([str(report), str(photo)])
    uploads = page.locator("#upload-list .upload")
    expect(uploads).to_have_count(2)
    expect(uploads.filter(has_text="report.pdf").locator(".upload-status")).to_contain_text(
        "Uploading…"
    )
    page.screenshot(path=str(shots / "02-uploading.png"))
    expect(page.locator("#upload-list .upload[data-state=done]")).to_have_count(2, timeout=60_000)
    throttle(cdp, -1)
    seen = page.evaluate("window.progressSeen")
    big = [value / maximum for label, value, maximum in seen if "report.pdf" in label]
    assert any(0 < fraction < 1 for fraction in big), big  # moved through intermediate values
    for bar in page.locator("#upload-list progress").all():
        assert bar.evaluate("b => b.value === b.max")
    expect(page.locator("#uploads-summary")).to_have_text("2 uploaded")
    expect(rows(page)).to_have_count(2)
    expect(page.locator("#crumbs [aria-current]")).to_have_text("reports")
    expect(row(page, "report.pdf")).to_contain_text("12.0 MB")
    page.screenshot(path=str(shots / "03-uploads-done.png"), full_page=True)
    with api(service) as client:
        listed = client.get("/api/v1/files", params={"folder": "reports"}).json()["items"]
    by_name = {item["original_filename"]: item for item in listed}
    assert set(by_name) == {"report.pdf", "photo.png"}
    assert by_name["report.pdf"]["file_size"] == report.stat().st_size
    assert by_name["photo.png"]["content_type"] == "image/png"

    # Search (debounced), then clear it.
    search = page.get_by_label("Search in this folder", exact=True)
    search.fill("phot")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("photo.png")
    search.fill("no-such-name")
    expect(page.get_by_text("No files match")).to_be_visible()
    search.fill("")
    expect(rows(page)).to_have_count(2)

    # Details of the report, opened with the keyboard; download it byte-identical.
    open_details(page, "report.pdf")
    expect(page.locator("#details .facts")).to_contain_text("Folderreports")
    name, body = download_bytes(page)
    assert name == "report.pdf"
    assert hashlib.sha256(body).digest() == hashlib.sha256(report.read_bytes()).digest()

    # A presigned link: shown, copied to the clipboard, and it serves the file.
    page.get_by_role("button", name="Copy link").click()
    link = page.get_by_role("textbox", name=re.compile("^Temporary link"))
    expect(link).to_be_visible()
    url = link.input_value()
    assert url.startswith(service.settings.s3_endpoint_url or "") and "Signature=" in url
    assert page.evaluate("navigator.clipboard.readText()") == url
    expect(toast(page)).to_contain_text("Link copied")
    assert (
        hashlib.sha256(httpx.get(url, timeout=60).content).digest()
        == hashlib.sha256(report.read_bytes()).digest()
    )

    # Description and metadata: a non-object is refused before sending, then saved.
    page.get_by_label("Description", exact=True).fill("Quarterly report")
    metadata = page.get_by_label("Metadata", exact=True)
    metadata.fill("[1, 2]")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#metadata-error")).to_contain_text("must be a JSON object")
    expect(metadata).to_have_attribute("aria-invalid", "true")
    metadata.fill('{"project": "apollo", "pages": 12}')
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#edit-form .saved")).to_have_text("Saved")
    page.evaluate(
        "document.getElementById('details').scrollTop = 0;"
        "document.getElementById('workspace').scrollIntoView()"
    )
    page.screenshot(path=str(shots / "04-details.png"))
    with api(service) as client:
        record = client.get(f"/api/v1/files/{by_name['report.pdf']['id']}").json()
    assert record["description"] == "Quarterly report"
    assert record["metadata"] == {"project": "apollo", "pages": 12}

    # Public: the switch, operated with the keyboard; the link works without a key.
    switch = page.get_by_role("switch", name="Public")
    switch.focus()
    page.keyboard.press("Space")
    expect(row(page, "report.pdf").locator(".badge-public")).to_have_text("Public")
    public_url = page.get_by_role("textbox", name="Permanent public link").input_value()
    assert httpx.get(public_url, timeout=60).status_code == 200
    with api(service) as client:
        assert (
            client.get(f"/api/v1/files/{by_name['report.pdf']['id']}").json()["is_public"] is True
        )

    # Copy to another folder.
    page.get_by_role("button", name="Copy to folder…").click()
    folder_field = page.get_by_label("Copy to folder", exact=True)
    expect(folder_field).to_be_focused()
    folder_field.fill("archive")
    folder_field.press("Enter")
    expect(toast(page)).to_have_text("Copied “report.pdf” to “archive”")
    with api(service) as client:
        copies = client.get("/api/v1/files", params={"folder": "archive"}).json()["items"]
    assert [c["file_size"] for c in copies] == [report.stat().st_size]
    assert copies[0]["metadata"] == {"project": "apollo", "pages": 12}
    page.keyboard.press("Escape")
    expect(page.locator("#details")).to_be_hidden()
    expect(row(page, "report.pdf").get_by_role("button", name="report.pdf")).to_be_focused()

    # The top level lists the two folders, with what they hold; back into "reports".
    page.locator("#crumbs").get_by_role("button", name="All files").click()
    expect(rows(page)).to_have_count(2)
    expect(row(page, "archive")).to_contain_text("1 file")
    expect(row(page, "reports")).to_contain_text("2 files")
    row(page, "reports").get_by_role("button", name="reports").click()
    expect(rows(page)).to_have_count(2)

    # Move the photo to the trash; it is listed there and restored from there.
    photo_id = by_name["photo.png"]["id"]
    open_details(page, "photo.png")
    page.get_by_role("button", name="Move to trash").click()
    expect(toast(page)).to_have_text("Moved “photo.png” to the trash")
    expect(row(page, "photo.png")).to_have_count(0)
    page.get_by_role("button", name="Trash").click()
    expect(page.get_by_role("heading", name="Trash", exact=True)).to_be_visible()
    expect(rows(page)).to_have_count(1)
    open_details(page, "photo.png")
    page.screenshot(path=str(shots / "05-trash.png"))
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_text("The trash is empty")).to_be_visible()
    with api(service) as client:
        assert client.get(f"/api/v1/files/{photo_id}").json()["status"] == "active"

    # Trash it again, and delete it for good after confirming.
    page.get_by_role("button", name="Back to files").click()
    search.fill("photo")  # on the second page otherwise
    expect(rows(page)).to_have_count(1)
    open_details(page, "photo.png")
    page.get_by_role("button", name="Move to trash").click()
    page.get_by_role("button", name="Trash").click()
    open_details(page, "photo.png")
    page.get_by_role("button", name="Delete for good").click()
    dialog = page.get_by_role("dialog", name="Delete for good?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()  # the safe default
    dialog.get_by_role("button", name="Delete for good").click()
    expect(toast(page)).to_have_text("Deleted “photo.png” for good")
    expect(page.get_by_text("Nothing in the trash matches")).to_be_visible()  # search: "photo"
    with api(service) as client:
        assert client.get(f"/api/v1/files/{photo_id}").status_code == 404
    assert not service.library().exists(by_name["photo.png"]["s3_key"])

    # Refused uploads, dropped on the page: a PDF posing as a PNG, and a file over the limit.
    page.get_by_role("button", name="Back to files").click()
    expect(page.get_by_text("No files match")).to_be_visible()
    page.get_by_role("button", name="Clear search").click()
    expect(rows(page)).to_have_count(1)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    transfer = page.evaluate_handle(DROP_FILES, [list(samples.pdf()), 21 * MiB])
    page.dispatch_event("#dropzone", "dragenter", {"dataTransfer": transfer})
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    refused = page.locator("#upload-list .upload[data-state=error]")
    expect(refused).to_have_count(2)
    expect(refused.filter(has_text="fake.png")).to_contain_text("This type of file is not allowed")
    expect(refused.filter(has_text="fake.png")).to_contain_text("does not match")
    expect(refused.filter(has_text="huge.pdf")).to_contain_text(
        "This file is larger than the limit (20 MB)"
    )
    expect(page.locator("#toast")).to_have_attribute("data-kind", "error")
    expect(page.locator("#live-alert")).to_contain_text("2 files were not uploaded")
    page.screenshot(path=str(shots / "06-upload-refused.png"), full_page=True)
    with api(service) as client:
        names = sorted(i["original_filename"] for i in client.get("/api/v1/files").json()["items"])
    assert names == ["report.pdf", "report.pdf"]

    # Phone width: cards instead of a table, the details panel over the whole screen.
    page.set_viewport_size({"width": 360, "height": 780})
    page.get_by_role("button", name="Clear finished").click()
    expect(page.locator("#uploads")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(shots / "07-phone-list.png"), full_page=True)
    open_details(page, "report.pdf")
    box = page.locator("#details").bounding_box()
    assert box is not None and box["width"] == 360
    assert page.evaluate("document.querySelector('.files').inert")  # covered: out of the tab order
    page.screenshot(path=str(shots / "08-phone-details.png"))
    page.get_by_role("button", name="Close details").click()
    expect(page.locator("#details")).to_be_hidden()

    # Sign out forgets the key.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('s3files:api-key')") is None
    assert errors == []
    context.close()


def test_web_manager_on_the_local_store(
    browser: Any, local_service: Service, tmp_path: Path, shots: Path
) -> None:
    service = local_service
    picture = tmp_path / "picture.png"
    picture.write_bytes(samples.png() + os.urandom(200_000))
    poster = tmp_path / "poster.png"
    poster.write_bytes(samples.png() + os.urandom(2 * MiB))  # over the 1 MB limit
    context, page, errors = open_manager(browser, service)
    sign_in(page, service.keys["alice"])
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload files").click()
    chooser.value.set_files([str(picture), str(poster)])
    expect(page.locator("#upload-list .upload[data-state=done]")).to_have_count(1, timeout=60_000)
    refused = page.locator("#upload-list .upload[data-state=error]")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("poster.png")
    expect(refused).to_contain_text("This file is larger than the limit (1 MB)")
    open_details(page, "picture.png")
    name, body = download_bytes(page)
    assert name == "picture.png" and body == picture.read_bytes()
    page.get_by_role("button", name="Copy link").click()
    url = page.get_by_role("textbox", name=re.compile("^Temporary link")).input_value()
    assert url.startswith(f"{service.url}/store/")  # signed by the service itself
    assert httpx.get(url, timeout=60).content == picture.read_bytes()
    page.screenshot(path=str(shots / "09-local-store.png"))
    assert errors == []
    context.close()
