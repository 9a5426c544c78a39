"""The direct-upload form field and its sign view without a browser (httpx posts the
signed form to RGW): what the view refuses to sign, what the field refuses to attach."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.test import Client

from s3files.contrib.django.widgets import TARGET_SALT
from tests import samples
from tests.django.testapp.views import AlbumForm
from tests.django.uploading import post_form

pytestmark = pytest.mark.django_db


def target_of(form: AlbumForm, field: str) -> str:
    """The signed target the page carries for ``field``."""
    html = str(form[field])
    found = re.search(r'data-s3files-target="([^"]+)"', html)
    assert found, html
    return found.group(1)


def sign(client: Client, target: str, filename: str, content_type: str, size: int = 100) -> Any:
    return client.post(
        "/s3files/uploads/sign",
        {"target": target, "filename": filename, "content_type": content_type, "size": size},
    )


def test_the_sign_view_signs_only_what_the_field_allows() -> None:
    client, form = Client(), AlbumForm()
    cover = target_of(form, "cover")
    assert signing.loads(cover, salt=TARGET_SALT)["p"] == "media/covers"
    signed = sign(client, cover, "a.png", "image/png")
    assert signed.status_code == 200 and signed.json()["success"]
    refused = sign(client, cover, "a.pdf", "application/pdf")  # cover accepts image/*
    assert refused.status_code == 415 and refused.json()["code"] == "not_accepted"
    too_big = sign(client, cover, "a.png", "image/png", size=600 * 1024)  # 512 KiB allowed
    assert too_big.status_code == 413
    forged = cover[:-2] + ("AA" if not cover.endswith("AA") else "BB")
    assert sign(client, forged, "a.png", "image/png").json()["code"] == "invalid_target"
    exe = sign(client, target_of(form, "booklet"), "run.exe", "application/octet-stream")
    assert exe.status_code == 400 and "not allowed" in exe.json()["error"]
    assert client.get("/s3files/uploads/sign").status_code == 405


def test_the_field_attaches_only_a_verified_upload_made_for_it() -> None:
    client = Client()
    booklet = target_of(AlbumForm(), "booklet")
    result = sign(client, booklet, "notes.pdf", "application/pdf").json()
    assert post_form(result, samples.pdf(), filename="notes.pdf").status_code == 204
    # the booklet's upload offered as the cover: not made for that field
    cover = AlbumForm({"title": "x", "cover": result["upload_id"]})
    assert not cover.is_valid()
    assert "not made for this field" in cover.errors["cover"][0]
    assert result["upload_id"] not in str(cover["cover"])  # the picker is offered afresh
    # an unknown id, and the right upload with an owner check that fails
    unknown = AlbumForm({"title": "x", "cover": "5b0c0000-0000-4000-8000-000000000000"})
    assert not unknown.is_valid() and "not found" in unknown.errors["cover"][0]
    someone = get_user_model().objects.create_user("someone")
    owned = AlbumForm({"title": "x", "booklet": result["upload_id"]})
    owned.fields["booklet"].owner = someone  # the upload was signed anonymously
    owned.fields["cover"].required = False
    assert not owned.is_valid() and "not found" in owned.errors["booklet"][0]
    # the field it was made for: attached as a FieldFile of the storage
    form = AlbumForm({"title": "x", "booklet": result["upload_id"]})
    form.fields["cover"].required = False
    assert form.is_valid(), form.errors
    album = form.save()
    assert album.booklet.name.startswith("booklets/") and album.booklet.read() == samples.pdf()
