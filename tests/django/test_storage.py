"""S3FilesStorage against Ceph RGW: FileField and ImageField round trips, the core's
validation and naming on save, streaming opens, signed URLs without the network, the rest
of Django's Storage API, and collectstatic through S3FilesStaticStorage."""

from __future__ import annotations

import io
import os
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.files.base import ContentFile, File
from django.core.management import call_command
from django.test import override_settings

from s3files import InvalidKeyError, UnsupportedFileTypeError
from s3files.contrib.django.storage import S3FilesStaticStorage, S3FilesStorage
from tests import samples
from tests.django.testapp.models import Document, media

pytestmark = pytest.mark.django_db
MiB = 1024 * 1024


def keys_under(boto_client: Any, bucket: str, prefix: str) -> list[str]:
    listed = boto_client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_a_file_field_round_trip(boto_client: Any, django_bucket: str) -> None:
    body = samples.pdf()
    document = Document.objects.create(
        title="report", attachment=ContentFile(body, name="Quarterly Report.pdf")
    )
    name = document.attachment.name
    # named by the core's policy under upload_to: <uuid>.pdf, never the raw name
    folder, filename = name.rsplit("/", 1)
    assert folder == "documents" and uuid.UUID(filename.removesuffix(".pdf"))
    head = boto_client.head_object(Bucket=django_bucket, Key=f"media/{name}")
    assert head["ContentType"] == "application/pdf" and head["ContentLength"] == len(body)
    assert "Quarterly Report.pdf" in head["ContentDisposition"]  # the name users see
    fresh = Document.objects.get(pk=document.pk)
    with fresh.attachment.open("rb") as handle:
        assert handle.read() == body
    assert fresh.attachment.size == len(body)
    assert httpx.get(fresh.attachment.url).content == body  # presigned GET, straight from RGW
    fresh.attachment.delete(save=True)
    assert keys_under(boto_client, django_bucket, f"media/{name}") == []
    assert Document.objects.get(pk=document.pk).attachment.name == ""


def test_an_image_field_round_trip(boto_client: Any, django_bucket: str) -> None:
    body = samples.png(width=3, height=2)
    document = Document.objects.create(picture=ContentFile(body, name="tiny.png"))
    assert (document.width, document.height) == (3, 2)
    assert document.picture.name.startswith(f"pictures/{datetime.now().year}/")
    fresh = Document.objects.get(pk=document.pk)
    with fresh.picture.open() as handle:
        assert handle.read(8) == body[:8]
    # closed, then opened again to read the header: the dimensions come from the store
    assert (fresh.picture.width, fresh.picture.height) == (3, 2)
    assert httpx.get(fresh.picture.url).content == body
    fresh.picture.delete(save=False)
    assert not media.exists(document.picture.name)


def test_a_spoofed_type_is_refused_and_nothing_is_stored(
    boto_client: Any, django_bucket: str
) -> None:
    before = set(keys_under(boto_client, django_bucket, "media/pictures/"))
    with pytest.raises(UnsupportedFileTypeError, match="does not match"):
        Document.objects.create(picture=ContentFile(samples.pdf(), name="holiday.png"))
    with pytest.raises(UnsupportedFileTypeError, match="not allowed"):
        media.save("tools/setup.exe", ContentFile(samples.elf()))
    assert set(keys_under(boto_client, django_bucket, "media/pictures/")) == before
    assert keys_under(boto_client, django_bucket, "media/tools/") == []


def test_open_streams_and_seeks_without_loading_the_file() -> None:
    big = S3FilesStorage(location="media", max_upload_size=64 * MiB)  # the app allows 1 MiB
    body = os.urandom(12 * MiB)
    name = big.save("big/archive.zip", ContentFile(samples.zip_archive() + body))
    size = big.size(name)
    assert size == len(samples.zip_archive()) + len(body)
    with big.open(name) as handle:
        tracemalloc.start()
        try:
            total = sum(len(chunk) for chunk in handle.chunks(chunk_size=MiB))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert total == size
        assert peak < 4 * MiB  # a chunk or two in memory, never the 12 MiB file
        handle.seek(size - 10)  # a ranged GET from there
        assert handle.read() == body[-10:]
        handle.seek(len(samples.zip_archive()) + 100)
        assert handle.read(5) == body[100:105]
    big.delete(name)


def test_the_storage_api(django_bucket: str) -> None:
    storage = S3FilesStorage(location=f"api-{uuid.uuid4().hex[:8]}")
    assert storage.generate_filename("docs/x/Ünïcode näme?.txt") == "docs/x/Ünïcode näme_.txt"
    with pytest.raises(InvalidKeyError, match=r"'\.\.'"):
        storage.generate_filename("docs/../x/a.txt")
    first = storage.save("notes/a.txt", ContentFile(b"alpha\n"))
    second = storage.save("notes/deeper/b.txt", ContentFile(b"beta\n"))
    third = storage.save("c.md", io.BytesIO(b"# gamma\n"))
    assert first.startswith("notes/") and first != "notes/a.txt"
    assert storage.exists(first) and not storage.exists("notes/missing.txt")
    assert storage.size(second) == 5
    folders, files = storage.listdir("notes")
    assert folders == ["deeper"] and files == [first.rsplit("/", 1)[1]]
    assert storage.listdir("") == (["notes"], [third])
    modified = storage.get_modified_time(first)
    assert modified.tzinfo is not None
    assert abs(datetime.now(UTC) - modified) < timedelta(minutes=5)
    with pytest.raises(FileNotFoundError):
        storage.open("notes/missing.txt")
    with pytest.raises(ValueError, match="read-only"):
        storage.open(first, "wb")
    for name in (first, second, third):
        storage.delete(name)
    assert storage.listdir("") == ([], [])


def test_urls_are_signed_without_any_network_call(s3_server: Any) -> None:
    # a store that cannot be reached: signing still works, because it never calls it
    with override_settings(AWS_S3_ENDPOINT_URL="http://127.0.0.1:9"):
        storage = S3FilesStorage(location="media", querystring_expire=600)
        url = storage.url("pictures/a b.png")
        assert url.startswith("http://127.0.0.1:9/")
        assert "/media/pictures/a%20b.png?" in url and "X-Amz-Expires=600" in url
        public = S3FilesStorage(location="media", querystring_auth=False)
        assert public.url("x.png").endswith("/media/x.png") and "X-Amz" not in public.url("x.png")
        cdn = S3FilesStorage(location="static", custom_domain="cdn.example.com")
        assert cdn.url("css/app.css") == "https://cdn.example.com/static/css/app.css"
    assert media.url("a.png").startswith(s3_server.endpoint_url)  # the settings came back


def test_collectstatic_with_a_static_storage(
    tmp_path: Path, boto_client: Any, django_bucket: str
) -> None:
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "app.css").write_text("body { color: teal }\n")
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "app.js").write_text("console.log('hi')\n")
    location = f"static-{uuid.uuid4().hex[:8]}"
    storages = {
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
        "staticfiles": {
            "BACKEND": "s3files.contrib.django.storage.S3FilesStaticStorage",
            "OPTIONS": {"location": location},
        },
    }
    with override_settings(
        STORAGES=storages,
        STATICFILES_DIRS=[str(tmp_path)],
        STATICFILES_FINDERS=["django.contrib.staticfiles.finders.FileSystemFinder"],
    ):
        out = io.StringIO()
        call_command("collectstatic", interactive=False, stdout=out)
        assert "2 static files copied" in out.getvalue()
        css = boto_client.head_object(Bucket=django_bucket, Key=f"{location}/css/app.css")
        js = boto_client.head_object(Bucket=django_bucket, Key=f"{location}/js/app.js")
        assert css["ContentType"] == "text/css" and js["ContentType"] == "text/javascript"
        from django.contrib.staticfiles.storage import staticfiles_storage
        from django.templatetags.static import static

        assert isinstance(staticfiles_storage._wrapped, S3FilesStaticStorage)
        assert httpx.get(static("css/app.css")).text == "body { color: teal }\n"
        again = io.StringIO()
        call_command("collectstatic", interactive=False, stdout=again)  # nothing changed
        assert "0 static files copied" in again.getvalue() and "2 unmodified" in again.getvalue()
        call_command("collectstatic", interactive=False, clear=True, stdout=io.StringIO())
        assert sorted(keys_under(boto_client, django_bucket, f"{location}/")) == [
            f"{location}/css/app.css",
            f"{location}/js/app.js",
        ]
        staticfiles_storage.save("extra/x.txt", File(io.BytesIO(b"kept as named")))
        assert staticfiles_storage.exists("extra/x.txt")
