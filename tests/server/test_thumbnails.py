"""Thumbnails (``GET /api/v1/files/{id}/thumbnail``) on the local disk and on Ceph RGW:
EXIF orientation, a decompression bomb refused, a PDF's first page, the cache in the
store (second request served from it, one render for concurrent first requests), removal
with the file on every hard-delete path, and HTML/SVG/XML never served inline."""

from __future__ import annotations

import concurrent.futures
import io
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from s3files.server.previews.service import thumbnail_key
from tests.server.conftest import Service, make_service


@pytest.fixture(scope="module", params=["local", "s3"])
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    # any type accepted: the HTML/SVG/XML checks need them stored
    yield from make_service(
        tmp_path_factory.mktemp(f"thumbs-{request.param}"),
        request,
        request.param,
        "sqlite",
        s3_allowed_extensions=None,
        s3_allowed_mime_types=None,
    )


def jpeg(width: int, height: int, *, orientation: int | None = None, quality: int = 85) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, width // 2, height))  # left half blue, right half red
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    exif[0x010F] = "SecretCamera"  # Make: must not reach the thumbnail
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def upload(client: httpx.Client, name: str, body: bytes, folder: str = "") -> dict[str, Any]:
    answer = client.post(
        "/api/v1/files/upload", files={"file": (name, body)}, data={"folder": folder}
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def thumb(client: httpx.Client, file_id: str, size: int = 256) -> httpx.Response:
    return client.get(f"/api/v1/files/{file_id}/thumbnail", params={"size": size})


def image_of(answer: httpx.Response) -> Image.Image:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/webp"
    image = Image.open(io.BytesIO(answer.content))
    image.load()
    return image


def test_exif_orientation_is_applied_and_metadata_left_out(service: Service) -> None:
    with service.client() as client:
        record = upload(client, "turned.jpg", jpeg(400, 200, orientation=6))  # 90° clockwise
        image = image_of(thumb(client, record["id"], 128))
    assert image.size == (64, 128)  # portrait once turned
    # turned clockwise, the left (blue) half is on top
    top, bottom = image.convert("RGB").getpixel((32, 10)), image.convert("RGB").getpixel((32, 118))
    assert top[2] > 150 > top[0] and bottom[0] > 150 > bottom[2], (top, bottom)
    assert not image.getexif() and "icc_profile" not in image.info and "xmp" not in image.info


def test_a_decompression_bomb_is_refused(service: Service) -> None:
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, format="PNG")  # 81 megapixels in a few kB
    assert len(out.getvalue()) < 100_000
    with service.client() as client:
        record = upload(client, "bomb.png", out.getvalue())
        answer = thumb(client, record["id"])
    assert answer.status_code == 422
    assert answer.json()["error"] == "image_too_large"
    assert "9000x9000" in answer.json()["detail"]


def test_a_pdf_gives_its_first_page(service: Service) -> None:
    pages = [Image.new("RGB", (300, 400), color) for color in ((20, 160, 20), (20, 20, 160))]
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:])
    with service.client() as client:
        record = upload(client, "two pages.pdf", out.getvalue())
        image = image_of(thumb(client, record["id"], 256)).convert("RGB")
    assert max(image.size) == 256 and image.size[0] < image.size[1]
    red, green, blue = image.getpixel((image.size[0] // 2, image.size[1] // 2))
    assert green > 120 > blue, (red, green, blue)  # the first page, green


def test_a_large_photo_is_quick_then_cached_and_made_once(service: Service) -> None:
    body = jpeg(6000, 4000, quality=70)  # 24 megapixels
    with service.client() as client:
        record = upload(client, "big photo.jpg", body)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            started = time.monotonic()
            answers = list(pool.map(lambda _: thumb(client, record["id"], 256), range(4)))
            first = time.monotonic() - started
        kinds = sorted(answer.headers["x-thumbnail"] for answer in answers)
        assert kinds.count("generated") == 1, kinds  # made once; the others shared it or read it
        assert set(kinds) <= {"generated", "shared", "cached"}
        assert {answer.content for answer in answers} == {answers[0].content}
        assert max(image_of(answers[0]).size) == 256
        assert first < 1.0, first
        started = time.monotonic()
        again = thumb(client, record["id"], 200)  # rounded up to the same cached size
        assert again.headers["x-thumbnail"] == "cached"
        assert again.content == answers[0].content
        assert time.monotonic() - started < 0.5
        etag = again.headers["etag"]
        assert (
            client.get(
                f"/api/v1/files/{record['id']}/thumbnail", headers={"If-None-Match": etag}
            ).status_code
            == 304
        )
    assert service.library().exists(thumbnail_key(record["s3_key"], 256) or "")


def test_types_without_a_preview_answer_no_preview(service: Service) -> None:
    with service.client() as client:
        record = upload(client, "notes.txt", b"just some words\n")
        answer = thumb(client, record["id"])
        assert answer.status_code == 404 and answer.json()["error"] == "no_preview"
        assert thumb(client, "00000000-0000-0000-0000-000000000000").json()["error"] == "not_found"
        assert (
            client.get(f"/api/v1/files/{record['id']}/thumbnail", params={"size": 0}).status_code
            == 422
        )
        broken = upload(client, "broken.png", jpeg(64, 64)[:0] + b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
        answer = thumb(client, broken["id"])
        assert answer.status_code == 404 and answer.json()["error"] == "no_preview"
        assert "could not be decoded" in answer.json()["detail"]
    with service.client("bob") as other:
        assert thumb(other, record["id"]).status_code == 404  # another owner's


def test_thumbnails_go_with_their_file_on_every_hard_delete(service: Service) -> None:
    library = service.library()
    with service.client() as client:
        made = {}
        for name, folder in (
            ("one.jpg", ""),
            ("two.jpg", "album"),
            ("three.jpg", ""),
            ("four.jpg", ""),
        ):
            record = upload(client, name, jpeg(64, 48), folder)
            for size in (128, 512):
                assert thumb(client, record["id"], size).status_code == 200
            made[name] = record
        keys = {
            name: [thumbnail_key(r["s3_key"], s) or "" for s in (128, 512)]
            for name, r in made.items()
        }
        assert all(library.exists(key) for group in keys.values() for key in group)

        assert (
            client.delete(
                f"/api/v1/files/{made['one.jpg']['id']}", params={"hard_delete": "true"}
            ).status_code
            == 204
        )
        assert client.delete(
            "/api/v1/folders", params={"path": "album", "hard_delete": "true"}
        ).status_code in (200, 204)
        batch = client.post(
            "/api/v1/files/batch", json={"action": "delete", "ids": [made["three.jpg"]["id"]]}
        )
        assert batch.status_code == 200, batch.text
        assert client.delete(f"/api/v1/files/{made['four.jpg']['id']}").status_code == 204  # trash
        assert all(library.exists(key) for key in keys["four.jpg"])  # trashed: kept
        assert client.delete("/api/v1/trash").status_code == 200
    for name, group in keys.items():
        assert not any(library.exists(key) for key in group), name


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("page.html", b"<!doctype html><html><body><script>alert(1)</script></body></html>"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("schema.xsd", b'<?xml version="1.0"?><rss><channel><title>x</title></channel></rss>'),
        (
            "feed.xml",
            b'<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml">'
            b"alert(1)</x:script>",
        ),
    ],
)
def test_html_svg_and_xml_are_never_served_inline(service: Service, name: str, body: bytes) -> None:
    with service.client() as client:
        record = upload(client, name, body)
        answers = [
            client.get(f"/api/v1/files/{record['id']}/download", params={"as_attachment": "false"}),
            httpx.get(
                client.get(f"/api/v1/files/{record['id']}/presigned-url").json()["url"], timeout=30
            ),
        ]
        assert thumb(client, record["id"]).json()["error"] == "no_preview"
    service_answer, presigned = answers
    assert service_answer.content == body
    assert service_answer.headers["content-disposition"].startswith("attachment")
    assert service_answer.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in service_answer.headers["content-security-policy"]
    assert "default-src 'none'" in service_answer.headers["content-security-policy"]
    if service.settings.s3_endpoint_url is None:  # the local store's /store URL: this origin
        assert presigned.url.host == httpx.URL(service.url).host
        assert presigned.headers["content-disposition"].startswith("attachment")
        assert presigned.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in presigned.headers["content-security-policy"]
    assert presigned.content == body


def test_a_slow_render_times_out_and_gives_its_slot_back(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from s3files.server.previews import service as previews

    with service.client() as client:
        record = upload(client, "slow.jpg", jpeg(3000, 2000))
        monkeypatch.setattr(previews, "RENDER_TIMEOUT", 0.001)
        answer = thumb(client, record["id"], 512)
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"] == "preview_timeout"
        assert answer.headers["retry-after"]
        monkeypatch.setattr(previews, "RENDER_TIMEOUT", 15.0)
        # the abandoned render finishes on its thread (and caches its result), then both
        # render slots are free again: two new renders at once succeed
        others = [upload(client, f"next{n}.jpg", jpeg(800, 600)) for n in range(2)]
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda r: thumb(client, r["id"], 128), others))
        assert [a.status_code for a in answers] == [200, 200]
        assert thumb(client, record["id"], 512).status_code == 200
