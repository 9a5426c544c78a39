"""Where objects go and what names are kept: keys under ``{folder}/{S3_FOLDER_STRUCTURE}/``,
an optional per-owner prefix, copies keyed in their new folder with their new metadata on
the object, display names kept (emoji, accents, right-to-left text) while keys stay
conservative, and keys that never change on a rename or a move."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from s3files import sanitize_filename
from tests import samples
from tests.server.conftest import Service, make_service
from tests.server.test_direct_uploads import post_form, put_parts

API = "/api/v1/files"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def upload(client: httpx.Client, content: bytes, name: str, **fields: Any) -> dict[str, Any]:
    data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
    response = client.post(f"{API}/upload", files={"file": (name, content)}, data=data)
    assert response.status_code == 201, response.text
    return dict(response.json())


def today() -> str:
    return datetime.now(UTC).strftime("%Y/%m/%d")


def test_keys_follow_the_folder_layout_and_copies_move_with_their_metadata(
    service: Service,
) -> None:
    with service.client() as client:
        stored = upload(client, samples.pdf(), "document.pdf", folder="documents")
        assert re.fullmatch(rf"documents/{today()}/{UUID}_document\.pdf", stored["s3_key"])
        streamed = client.post(
            f"{API}/stream", params={"filename": "notes.txt", "folder": "a/b"},
            content=samples.text(),
        )  # fmt: skip
        assert streamed.status_code == 201, streamed.text
        assert re.fullmatch(rf"a/b/{today()}/{UUID}_notes\.txt", streamed.json()["s3_key"])

        copied = client.post(
            f"{API}/{stored['id']}/copy",
            json={"new_folder": "archives", "new_metadata": {"archived": True, "n": 2}},
        )
        assert copied.status_code == 201, copied.text
        body = copied.json()
        assert re.fullmatch(rf"archives/{today()}/{UUID}_document\.pdf", body["s3_key"])
        assert body["folder"] == "archives" and body["metadata"] == {"archived": True, "n": 2}
        files = service.library()
        assert dict(files.head(body["s3_key"]).metadata) == {"archived": True, "n": 2}
        assert files.download(body["s3_key"]) == samples.pdf()


NAMES = [
    "🎉 party — plan.txt",
    "café crème.txt",
    "تقرير سنوي.txt",  # Arabic, right to left
    "שלום עולם.txt",  # Hebrew
    "👨\u200d👩\u200d👧 family.txt",  # the joiners inside the emoji stay
]


def test_display_names_round_trip_and_renames_keep_the_key(service: Service) -> None:
    with service.client() as client:
        for name in NAMES:
            body = upload(client, samples.text(), name, folder="names")
            assert body["original_filename"] == name
            key_name = body["s3_key"].rsplit("/", 1)[-1]
            assert key_name.endswith("_" + sanitize_filename(name))  # the conservative form
            assert client.get(f"{API}/{body['id']}").json()["original_filename"] == name
            download = client.get(f"{API}/{body['id']}/download")
            assert download.status_code == 200 and download.content == samples.text()
        hostile = upload(client, samples.text(), "report\u202egnp.txt\u200b")
        assert hostile["original_filename"] == "reportgnp.txt"
        decomposed = upload(client, samples.text(), "cafe\u0301 a/b\\c.txt")
        assert decomposed["original_filename"] == "caf\u00e9 a_b_c.txt"  # NFC, no separators
        long_name = upload(client, samples.text(), "é" * 300 + ".txt")["original_filename"]
        assert len(long_name.encode()) <= 255 and long_name.endswith(".txt")

        renamed = client.patch(
            f"{API}/{hostile['id']}", json={"name": "Ünïcode — renamed 📄.txt", "folder": "x/y"}
        )
        assert renamed.status_code == 200, renamed.text
        after = renamed.json()
        assert after["original_filename"] == "Ünïcode — renamed 📄.txt"
        assert after["folder"] == "x/y" and after["s3_key"] == hostile["s3_key"]
        refused = client.patch(f"{API}/{hostile['id']}", json={"name": "\u200b\u202e"})
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_filename"
        assert client.get(f"{API}/{hostile['id']}").json()["original_filename"] == (
            "Ünïcode — renamed 📄.txt"
        )


@pytest.fixture(params=["local", "s3"])
def prefixed_service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    yield from make_service(
        tmp_path, request, request.param, "sqlite", s3files_key_prefix="users/{owner}"
    )


def test_an_owner_prefix_goes_before_every_key(prefixed_service: Service) -> None:
    with prefixed_service.client("alice") as alice, prefixed_service.client("bob") as bob:
        mine = upload(alice, samples.png(), "logo.png", folder="site")
        assert re.fullmatch(rf"users/alice/site/{today()}/{UUID}_logo\.png", mine["s3_key"])
        theirs = upload(bob, samples.png(), "logo.png")
        assert re.fullmatch(rf"users/bob/{today()}/{UUID}_logo\.png", theirs["s3_key"])
        # a direct upload is keyed by the same rule
        form = alice.post(
            "/api/v1/uploads",
            json={"original_filename": "logo.png", "content_type": "image/png", "folder": "site"},
        )
        assert form.status_code == 201, form.text
        assert re.fullmatch(rf"users/alice/site/{today()}/{UUID}_logo\.png", form.json()["key"])


def complete(client: httpx.Client, upload_id: str) -> dict[str, Any]:
    done = client.post(f"/api/v1/uploads/{upload_id}/complete")
    assert done.status_code == 200, done.text
    return dict(done.json())


def test_direct_uploads_are_keyed_and_named_like_every_upload(sqlite_service: Service) -> None:
    """A signed form and a multipart upload get their key and display name from the same
    rule as a service upload: ``{folder}/{S3_FOLDER_STRUCTURE}/<uuid>_<name>``, the name
    kept (emoji, accents) minus what deceives (bidi, zero-width, separators)."""
    with sqlite_service.client() as client:
        given = "🎉 party — pla\u202en/x.png"
        shown = "🎉 party — plan_x.png"
        form = client.post(
            "/api/v1/uploads",
            json={"original_filename": given, "content_type": "image/png", "folder": "documents"},
        )
        assert form.status_code == 201, form.text
        body = form.json()
        pattern = rf"documents/{today()}/{UUID}_{re.escape(sanitize_filename(shown))}"
        assert re.fullmatch(pattern, body["key"]), body["key"]
        sent = post_form(body, samples.png(), filename="x.png")
        assert sent.status_code in (200, 201, 204), sent.text
        record = complete(client, body["upload_id"])
        assert (record["original_filename"], record["folder"]) == (shown, "documents")
        assert record["s3_key"] == body["key"]

        content = samples.zip_archive()
        started = client.post(
            "/api/v1/uploads/multipart",
            json={
                "original_filename": "cafe\u0301 cr\u200bème.zip",
                "content_type": "application/zip",
                "size": len(content),
                "folder": "a/b",
            },
        )
        assert started.status_code == 201, started.text
        multipart = started.json()
        assert re.fullmatch(rf"a/b/{today()}/{UUID}_café crème\.zip", multipart["key"])
        put_parts(client, multipart, content, [1])
        parts = complete(client, multipart["upload_id"])
        assert (parts["original_filename"], parts["folder"]) == ("café crème.zip", "a/b")

        # the older "prefix" stands for the folder; both, when they differ, are refused
        older = client.post(
            "/api/v1/uploads",
            json={"original_filename": "a.png", "content_type": "image/png", "prefix": "old/p"},
        )
        assert re.fullmatch(rf"old/p/{today()}/{UUID}_a\.png", older.json()["key"])
        both = client.post(
            "/api/v1/uploads",
            json={
                "original_filename": "a.png", "content_type": "image/png",
                "prefix": "p", "folder": "f",
            },
        )  # fmt: skip
        assert both.status_code == 400 and both.json()["error"] == "invalid_field"
