"""Folder names are kept: an emoji or a right-to-left name is the folder people see in the
record, in listings, in ``GET /api/v1/folders``, after a move and inside a zip, while the
object key holds its conservative form; a folder stored in that form before names were
kept stays its own folder. On the local store and Ceph RGW, SQLite and PostgreSQL."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx

from tests import samples
from tests.server.conftest import Service

FILES = "/api/v1/files"
FOLDERS = "/api/v1/folders"
HOLIDAY = "Holiday 🌴"
ARABIC = "صور العائلة"  # "family photos"
HEBREW = "תמונות"


def upload(client: httpx.Client, name: str, folder: str) -> dict[str, Any]:
    response = client.post(
        f"{FILES}/upload", files={"file": (name, f"{name}\n".encode())}, data={"folder": folder}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def listed(client: httpx.Client, folder: str) -> list[str]:
    answer = client.get(FILES, params={"folder": folder, "sort": "name"})
    assert answer.status_code == 200, answer.text
    return [item["original_filename"] for item in answer.json()["items"]]


def subfolders(client: httpx.Client, path: str = "") -> list[tuple[str, str, int]]:
    answer = client.get(FOLDERS, params={"path": path})
    assert answer.status_code == 200, answer.text
    return [(item["path"], item["name"], item["files"]) for item in answer.json()["items"]]


def test_emoji_and_right_to_left_folders_round_trip(service: Service) -> None:
    with service.client() as client:
        # bidi marks and zero-width characters go, NFD becomes NFC, the rest stays
        beach = upload(client, "beach.txt", f"/{HOLIDAY}\u200b/{ARABIC}\u200f/")
        cafe = upload(client, "menu.txt", f"{HOLIDAY}/cafe\u0301")
        legacy = upload(client, "old.txt", "Holiday _")  # the form stored before
        assert beach["folder"] == f"{HOLIDAY}/{ARABIC}"
        assert cafe["folder"] == f"{HOLIDAY}/café"
        assert beach["s3_key"].startswith("Holiday _/")  # the key: conservative
        assert legacy["folder"] == "Holiday _"
        assert client.get(f"{FILES}/{beach['id']}").json()["folder"] == f"{HOLIDAY}/{ARABIC}"

        assert subfolders(client) == [("Holiday _", "Holiday _", 1), (HOLIDAY, HOLIDAY, 2)]
        assert subfolders(client, HOLIDAY) == [
            (f"{HOLIDAY}/café", "café", 1),
            (f"{HOLIDAY}/{ARABIC}", ARABIC, 1),
        ]
        assert listed(client, f"{HOLIDAY}/{ARABIC}") == ["beach.txt"]
        assert listed(client, f"{HOLIDAY}/cafe\u0301") == ["menu.txt"]  # NFD asks for NFC
        assert listed(client, "Holiday _") == ["old.txt"]

        # a direct upload keeps the name too
        form = client.post(
            "/api/v1/uploads",
            json={"original_filename": "dot.png", "content_type": "image/png", "folder": HEBREW},
        )
        assert form.status_code == 201, form.text
        plan = form.json()
        sent = httpx.post(
            plan["form_url"],
            data=plan["form_fields"],
            files={"file": ("dot.png", samples.png())},
            timeout=60,
        )
        assert sent.status_code in (200, 201, 204), sent.text
        done = client.post(f"/api/v1/uploads/{plan['upload_id']}/complete")
        assert done.status_code == 200, done.text
        assert done.json()["folder"] == HEBREW

        # moves: a folder into a right-to-left one, a file by PATCH, a copy
        moved = client.post(FOLDERS + "/move", json={"source": HOLIDAY, "target": f"{HEBREW}/🌊"})
        assert moved.status_code == 200, moved.text
        assert subfolders(client, HEBREW) == [(f"{HEBREW}/🌊", "🌊", 2)]
        assert listed(client, f"{HEBREW}/🌊/{ARABIC}") == ["beach.txt"]
        patched = client.patch(f"{FILES}/{cafe['id']}", json={"folder": f"{ARABIC} ☀️"})
        assert patched.status_code == 200 and patched.json()["folder"] == f"{ARABIC} ☀️"
        copied = client.post(f"{FILES}/{legacy['id']}/copy", json={"new_folder": "🗂️"})
        assert copied.status_code in (200, 201) and copied.json()["folder"] == "🗂️"
        assert client.get(f"{FILES}/{beach['id']}").json()["s3_key"] == beach["s3_key"]

        # zips: entry paths and the archive's name keep the names
        folder_zip = client.get(f"{FOLDERS}/zip", params={"path": HEBREW})
        assert folder_zip.status_code == 200, folder_zip.text
        assert "filename*=UTF-8''%D7%AA" in folder_zip.headers["content-disposition"]
        names = zipfile.ZipFile(io.BytesIO(folder_zip.content)).namelist()
        assert sorted(names) == [f"{HEBREW}/dot.png", f"{HEBREW}/🌊/{ARABIC}/beach.txt"]
        chosen = client.post(f"{FILES}/zip", json={"ids": [cafe["id"], copied.json()["id"]]})
        archive = zipfile.ZipFile(io.BytesIO(chosen.content))
        assert sorted(archive.namelist()) == [f"{ARABIC} ☀️/menu.txt", "🗂️/old.txt"]
        assert all(info.flag_bits & 0x800 for info in archive.infolist())  # UTF-8 names

        # what climbs out stays refused, however it is dressed
        for bad in ("a/../b", "..", "🌴/./x", " .. /x"):
            answer = client.post(
                f"{FILES}/upload", files={"file": ("x.txt", b"x\n")}, data={"folder": bad}
            )
            assert answer.status_code == 400, (bad, answer.text)
            assert answer.json()["error"] == "invalid_key"  # as before names were kept
            assert client.get(FOLDERS, params={"path": bad}).status_code == 400
        assert len(client.get(FILES, params={"limit": 200}).json()["items"]) == 5
