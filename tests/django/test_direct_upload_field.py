"""The direct-upload model fields, driven by Chromium against a live Django and Ceph RGW:
in a plain ModelForm and in the admin, the browser sends the file straight to the bucket,
the form submits the upload's id, and the field becomes a FieldFile on S3FilesStorage. A
file that fails verification makes the form invalid with the reason. The Upload admin
lists uploads and its actions re-verify and delete."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from s3files.contrib.django.conf import get_file_store
from s3files.contrib.django.models import Upload
from s3files.contrib.django.shortcuts import complete_upload, get_direct_upload_form_data
from tests import samples
from tests.django.chromium import ChromiumThread
from tests.django.testapp.models import Album
from tests.django.uploading import post_form

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser_cors(django_bucket: str) -> None:
    """Browsers on any origin may POST to the bucket (other tests replace the rules)."""
    get_file_store().store.configure_cors(["*"])  # type: ignore[attr-defined]


@pytest.fixture
def admin_cookie() -> dict[str, str]:
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value}


def exists(boto_client: Any, bucket: str, key: str) -> bool:
    return bool(boto_client.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"))


# Scenarios (on the Chromium thread) ------------------------------------------------------


def pick(page: Any, field: str, path: Path) -> str:
    """Choose a file in a direct-upload field; wait for the upload to end; its status."""
    page.set_input_files(f"#id_{field}", str(path))
    page.wait_for_function(
        """id => ["uploaded", "failed"].includes(
               document.getElementById(id).closest(".s3files-direct-upload-field").dataset.state)""",
        arg=f"id_{field}",
        timeout=30_000,
    )
    return str(page.eval_on_selector(f"#id_{field}", "i => i.nextElementSibling.textContent"))


def form_scenario(browser: Any, url: str, cover: Path, booklet: Path | None) -> dict[str, Any]:
    page = browser.new_page()
    try:
        page.goto(f"{url}/albums/new")
        page.fill("#id_title", "Summer")
        seen: dict[str, Any] = {"cover": pick(page, "cover", cover)}
        if booklet is not None:
            seen["booklet"] = pick(page, "booklet", booklet)
        page.click("#save")
        page.wait_for_selector("#saved, .errorlist")
        saved = page.locator("#saved")
        seen["saved"] = saved.get_attribute("data-id") if saved.count() else None
        errors = page.locator(".errorlist")
        seen["errors"] = errors.all_inner_texts() if errors.count() else []
        return seen
    finally:
        page.close()


def admin_scenario(browser: Any, url: str, cookie: dict[str, str], cover: Path) -> dict[str, Any]:
    context = browser.new_context()
    context.add_cookies([{**cookie, "url": url}])
    page = context.new_page()
    try:
        page.goto(f"{url}/admin/testapp/album/add/")
        page.fill("#id_title", "From the admin")
        seen: dict[str, Any] = {"cover": pick(page, "cover", cover)}
        page.click("input[name=_save]")
        page.wait_for_selector(".messagelist .success, .errornote")
        seen["message"] = page.locator(".messagelist, .errornote").first.inner_text()
        page.goto(f"{url}/admin/s3files/upload/")
        row = page.locator("#result_list tbody tr").first
        seen["row"] = row.inner_text()
        seen["link"] = row.locator("a.s3files-link").get_attribute("href")
        return seen
    finally:
        context.close()


# Tests ---------------------------------------------------------------------------------


def test_a_model_form_uploads_straight_to_the_bucket(
    chromium: ChromiumThread,
    live_server: Any,
    browser_cors: None,
    tmp_path: Path,
    boto_client: Any,
    django_bucket: str,
) -> None:
    cover, booklet = tmp_path / "cover.png", tmp_path / "booklet.pdf"
    cover.write_bytes(samples.png(width=4, height=3))
    booklet.write_bytes(samples.pdf())
    seen = chromium.run(form_scenario, live_server.url, cover, booklet)
    assert seen["errors"] == [] and seen["saved"], seen
    assert seen["cover"].startswith("uploaded cover.png")
    album = Album.objects.get(pk=seen["saved"])
    folder, name = album.cover.name.split("/")
    assert folder == "covers" and uuid.UUID(name.removesuffix(".png"))  # a FieldFile of ours
    assert album.width == 4 and album.cover.width == 4  # ImageField read it from the store
    assert album.booklet.name.startswith("booklets/")
    assert httpx.get(album.cover.url).content == cover.read_bytes()
    assert exists(boto_client, django_bucket, f"media/{album.cover.name}")
    upload = Upload.objects.get(key=f"media/{album.cover.name}")
    assert upload.status == Upload.STATUS_COMPLETE and upload.content_type == "image/png"


def test_a_file_that_fails_verification_makes_the_form_invalid(
    chromium: ChromiumThread,
    live_server: Any,
    browser_cors: None,
    tmp_path: Path,
    boto_client: Any,
    django_bucket: str,
) -> None:
    spoofed = tmp_path / "cover.png"
    spoofed.write_bytes(samples.pdf())  # a PDF with a PNG name: the browser claims image/png
    seen = chromium.run(form_scenario, live_server.url, spoofed, None)
    assert seen["cover"].startswith("uploaded")  # the store took it; the check comes next
    assert seen["saved"] is None
    assert any("does not match" in error for error in seen["errors"]), seen
    assert not Album.objects.exists()
    upload = Upload.objects.get()
    assert upload.status == Upload.STATUS_REJECTED
    assert not exists(boto_client, django_bucket, upload.key)


def test_the_admin_uploads_and_lists_uploads(
    chromium: ChromiumThread,
    live_server: Any,
    browser_cors: None,
    admin_cookie: dict[str, str],
    tmp_path: Path,
) -> None:
    cover = tmp_path / "admin cover.png"
    cover.write_bytes(samples.png(width=5, height=5))
    seen = chromium.run(admin_scenario, live_server.url, admin_cookie, cover)
    assert "was added successfully" in seen["message"], seen
    album = Album.objects.get(title="From the admin")
    assert album.cover.name.startswith("covers/") and album.width == 5
    upload = Upload.objects.get()
    assert upload.owner is not None and upload.owner.get_username() == "root"
    for shown in ("admin cover.png", "Complete", "root", str(upload.size), "image/png"):
        assert shown in seen["row"]
    assert httpx.get(seen["link"]).content == cover.read_bytes()


def test_the_upload_admin_actions_reverify_and_delete(boto_client: Any, django_bucket: str) -> None:
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client = Client()
    client.force_login(user)
    ids = []
    for name in ("a.png", "b.png"):
        result = get_direct_upload_form_data(name, "image/png", 1024 * 1024, "media/checked")
        assert post_form(result, samples.png(), filename=name).status_code == 204
        assert complete_upload(result["upload_id"])["success"]
        ids.append(result["upload_id"])
    intact, tampered = (Upload.objects.get(pk=i) for i in ids)
    changed = bytearray(samples.png())
    changed[-5] ^= 0xFF  # same size, same type, other bytes
    boto_client.put_object(Bucket=django_bucket, Key=tampered.key, Body=bytes(changed))
    changelist = "/admin/s3files/upload/"
    answer = client.post(
        changelist, {"action": "reverify", "index": "0", "_selected_action": ids}, follow=True
    )
    shown = [str(message) for message in answer.context["messages"]]
    assert shown[0] == "1 verified" and shown[1].startswith(
        "not verified: b.png: uploaded file's SHA-256"
    )
    tampered.refresh_from_db()
    intact.refresh_from_db()
    assert intact.status == Upload.STATUS_COMPLETE and tampered.status == Upload.STATUS_REJECTED
    assert not exists(boto_client, django_bucket, tampered.key)
    # Django's own "delete selected" removes the objects from the bucket too
    answer = client.post(
        changelist,
        {"action": "delete_selected", "index": "0", "_selected_action": ids, "post": "yes"},
    )
    assert answer.status_code == 302
    assert not Upload.objects.exists()
    assert not exists(boto_client, django_bucket, intact.key)
