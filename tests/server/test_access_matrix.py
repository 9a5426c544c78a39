"""Who may do what: every files endpoint for every kind of caller, on the four combinations of
store and database.

Each test item is one actor against every endpoint, in an order where the actors that are
allowed to change things (alice, root) do so last. Every cell is checked for its status and
JSON error code; a refused cell must also leave the files table and the store untouched.
Failures are collected so that one run shows every wrong cell, each named by its endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests import samples
from tests.server.conftest import Service

API = "/api/v1/files"
ACTORS: list[str | None] = ["alice", "bob", "root", None, "gone"]
ACTOR_IDS = ["owner-alice", "other-owner-bob", "admin-root", "anonymous", "revoked-gone"]
MISSING_ID = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Seeded:
    """Alice's files: a private PDF, a public PNG, a text file in her trash and a private
    PNG (``photo``)."""

    private: dict[str, Any]
    public: dict[str, Any]
    trashed: dict[str, Any]
    photo: dict[str, Any]


def upload(client: httpx.Client, content: bytes, name: str, **fields: Any) -> dict[str, Any]:
    data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
    response = client.post(f"{API}/upload", files={"file": (name, content)}, data=data)
    assert response.status_code == 201, response.text
    return dict(response.json())


def seed(service: Service) -> Seeded:
    """Alice's files, made once per test function."""
    with service.client("alice") as alice:
        private = upload(
            alice, samples.pdf(), "contract.pdf", folder="docs", description="secret",
            metadata={"client": "acme"},
        )  # fmt: skip
        public = upload(alice, samples.png(), "logo.png", folder="site", is_public=True)
        trashed = upload(alice, samples.text(), "notes.txt", folder="docs")
        assert alice.delete(f"{API}/{trashed['id']}").status_code == 204
        photo = upload(alice, samples.png(16, 16), "photo.png", folder="site")
    return Seeded(private=private, public=public, trashed=trashed, photo=photo)


def snapshot(service: Service) -> tuple[list[Any], list[str]]:
    """Every row of ``files`` and every key in the store: what a refused call must not touch."""
    rows = service.db_rows(
        "select id, owner, key, status, folder, description, is_public, metadata, updated_at,"
        " deleted_at from files order by key"
    )
    keys = sorted(info.key for info in service.library().iter_objects())
    return [tuple(str(v) for v in row) for row in rows], keys


def record(service: Service, file_id: str) -> dict[str, Any] | None:
    rows = service.db_rows(
        f"select owner, status, description, folder, is_public from files where id in "
        f"('{file_id}', '{file_id.replace('-', '')}')"
    )
    if not rows:
        return None
    owner, status, description, folder, is_public = rows[0]
    return {
        "owner": owner, "status": status, "description": description, "folder": folder,
        "is_public": bool(is_public),
    }  # fmt: skip


# Expected statuses ------------------------------------------------------------------------


def owners_and_admins(ok: int) -> dict[str | None, int]:
    """Alice's own file: alice and the admin act; bob gets 404; no valid credentials, 401."""
    return {"alice": ok, "root": ok, "bob": 404, None: 401, "gone": 401}


def any_owner(ok: int) -> dict[str | None, int]:
    """Calls that need only valid credentials (listing, uploads)."""
    return {"alice": ok, "root": ok, "bob": ok, None: 401, "gone": 401}


PUBLIC_DOWNLOAD = {"alice": 200, "root": 200, "bob": 200, None: 200, "gone": 401}
GONE_FOR_ALL = {"alice": 404, "root": 404, "bob": 404, None: 401, "gone": 401}

Call = Callable[[httpx.Client, Seeded], httpx.Response]
Check = Callable[[Service, Seeded, "str | None", httpx.Response], None]


@dataclass(frozen=True)
class Cell:
    endpoint: str
    call: Call
    expect: dict[str | None, int]
    check: Check | None = None  # what a successful call must have done


# Checks of successful calls ----------------------------------------------------------------


def listed(response: httpx.Response) -> set[str]:
    return {item["id"] for item in response.json()["items"]}


def sees_active(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
    ids = listed(r)
    mine = {files.private["id"], files.public["id"]}
    if actor == "bob":
        assert not ids & (mine | {files.trashed["id"]}), "bob's listing shows alice's files"
    else:
        assert mine <= ids and files.trashed["id"] not in ids, ids


def sees_trash(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
    ids = listed(r)
    if actor == "bob":
        assert files.trashed["id"] not in ids, "bob's trash shows alice's file"
    else:
        assert ids & {files.private["id"], files.public["id"]} == set()
        assert files.trashed["id"] in ids, ids


def finds_private(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
    found = files.private["id"] in listed(r)
    assert found == (actor != "bob"), f"private file listed: {found}"


def same_record(key: str) -> Check:
    def check(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
        assert r.json()["id"] == getattr(files, key)["id"]
        assert r.json()["owner"] == "alice"

    return check


def same_bytes(content: bytes) -> Check:
    def check(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
        assert r.content == content

    return check


def thumbnail_of(key: str) -> Check:
    def check(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
        from s3files.server.previews.service import thumbnail_key

        assert r.headers["content-type"] == "image/webp" and r.content[8:12] == b"WEBP"
        cached = thumbnail_key(getattr(files, key)["s3_key"], 256)
        assert cached is not None and service.library().exists(cached), "not kept in the store"

    return check


def presigned_works(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
    assert httpx.get(r.json()["url"], timeout=30).content == samples.pdf()


PATCH_BODY = {"description": "pwned", "metadata": {"pwned": True}, "is_public": True, "folder": "x"}


def patched(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
    row = record(service, files.private["id"])
    assert row == {
        "owner": "alice", "status": "active", "description": "pwned", "folder": "x",
        "is_public": True,
    }, row  # fmt: skip


def copied(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
    copy = r.json()
    assert copy["id"] != files.private["id"] and copy["owner"] == "alice"
    assert (
        copy["folder"] == "stolen" and service.library().download(copy["s3_key"]) == samples.pdf()
    )


def restored(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
    assert (record(service, files.trashed["id"]) or {}).get("status") == "active"


def soft_deleted(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
    assert (record(service, files.private["id"]) or {}).get("status") == "deleted"
    assert service.library().exists(files.private["s3_key"]), "soft delete removed the object"


def hard_deleted(key: str) -> Check:
    def check(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
        target = getattr(files, key)
        assert record(service, target["id"]) is None
        assert not service.library().exists(target["s3_key"])

    return check


def owned_by_caller(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
    assert r.json()["owner"] == actor
    assert service.library().download(r.json()["s3_key"]) == samples.text()


# The matrix, in the order it is run ----------------------------------------------------------


def _id(files: Seeded, key: str) -> str:
    return str(getattr(files, key)["id"])


CELLS: list[Cell] = [
    Cell("GET /files", lambda c, f: c.get(API), any_owner(200), sees_active),
    Cell("GET /files?folder=docs&search=contract",
         lambda c, f: c.get(API, params={"folder": "docs", "search": "contract"}),
         any_owner(200), finds_private),
    Cell("GET /files?deleted=true", lambda c, f: c.get(API, params={"deleted": True}),
         any_owner(200), sees_trash),
    *[
        Cell(f"GET /files/{{{key}}}{suffix}", lambda c, f, k=key, s=suffix: c.get(f"{API}/{_id(f, k)}{s}"),
             owners_and_admins(200), same_record(key))
        for key in ("private", "public")
        for suffix in ("", "/metadata")
    ],
    Cell("GET /files/{trashed}", lambda c, f: c.get(f"{API}/{_id(f, 'trashed')}"), GONE_FOR_ALL),
    Cell("GET /files/{private}/download", lambda c, f: c.get(f"{API}/{_id(f, 'private')}/download"),
         owners_and_admins(200), same_bytes(samples.pdf())),
    Cell("GET /files/{public}/download", lambda c, f: c.get(f"{API}/{_id(f, 'public')}/download"),
         PUBLIC_DOWNLOAD, same_bytes(samples.png())),
    # A missing or trashed file must look like a private one to a caller without credentials,
    # or the answer tells whether the id exists.
    Cell("GET /files/{trashed}/download", lambda c, f: c.get(f"{API}/{_id(f, 'trashed')}/download"),
         GONE_FOR_ALL),
    Cell("GET /files/{missing}/download", lambda c, f: c.get(f"{API}/{MISSING_ID}/download"),
         GONE_FOR_ALL),
    # a thumbnail answers as the file's record does, a public file's too (it needs a key)
    *[
        Cell(f"GET /files/{{{key}}}/thumbnail",
             lambda c, f, k=key: c.get(f"{API}/{_id(f, k)}/thumbnail", params={"size": 256}),
             owners_and_admins(200), thumbnail_of(key))
        for key in ("photo", "public")
    ],
    Cell("GET /files/{trashed}/thumbnail", lambda c, f: c.get(f"{API}/{_id(f, 'trashed')}/thumbnail"),
         GONE_FOR_ALL),
    Cell("GET /files/{missing}/thumbnail", lambda c, f: c.get(f"{API}/{MISSING_ID}/thumbnail"),
         GONE_FOR_ALL),
    *[
        Cell(f"GET /files/{{{key}}}/presigned-url",
             lambda c, f, k=key: c.get(f"{API}/{_id(f, k)}/presigned-url", params={"expiry": 60}),
             owners_and_admins(200), presigned_works if key == "private" else None)
        for key in ("private", "public")
    ],
    *[
        Cell(f"POST /files/{{{key}}}/copy",
             lambda c, f, k=key: c.post(f"{API}/{_id(f, k)}/copy",
                                        json={"new_folder": "stolen", "new_metadata": {"a": 1}}),
             owners_and_admins(201), copied if key == "private" else None)
        for key in ("private", "public")
    ],
    Cell("PATCH /files/{public} (make it private)",
         lambda c, f: c.patch(f"{API}/{_id(f, 'public')}", json={"is_public": False}),
         owners_and_admins(200)),
    Cell("PATCH /files/{private}", lambda c, f: c.patch(f"{API}/{_id(f, 'private')}", json=PATCH_BODY),
         owners_and_admins(200), patched),
    Cell("POST /files/{trashed}/restore", lambda c, f: c.post(f"{API}/{_id(f, 'trashed')}/restore"),
         owners_and_admins(200), restored),
    Cell("DELETE /files/{private}", lambda c, f: c.delete(f"{API}/{_id(f, 'private')}"),
         owners_and_admins(204), soft_deleted),
    *[
        Cell(f"DELETE /files/{{{key}}}?hard_delete=true",
             lambda c, f, k=key: c.delete(f"{API}/{_id(f, k)}", params={"hard_delete": True}),
             owners_and_admins(204), hard_deleted(key))
        for key in ("trashed", "public")
    ],
    Cell("POST /files/upload",
         lambda c, f: c.post(f"{API}/upload", files={"file": ("mine.txt", samples.text())}),
         any_owner(201), owned_by_caller),
    Cell("POST /files/stream?filename=mine.txt",
         lambda c, f: c.post(f"{API}/stream", params={"filename": "mine.txt"}, content=samples.text()),
         any_owner(201), owned_by_caller),
]  # fmt: skip


def run_cell(
    service: Service, client: httpx.Client, files: Seeded, actor: str | None, cell: Cell
) -> str | None:
    """None if the cell behaves, else what went wrong."""
    expected = cell.expect[actor]
    before = snapshot(service) if expected >= 400 else None
    response = cell.call(client, files)
    if response.status_code != expected:
        return f"{cell.endpoint}: expected {expected}, got {response.status_code} {response.text[:200]}"
    if expected >= 400:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found"}[expected]
        body = response.json()
        if body.get("error") != code or not isinstance(body.get("detail"), str):
            return f"{cell.endpoint}: expected error {code!r} with a detail, got {body}"
        if snapshot(service) != before:
            return f"{cell.endpoint}: refused with {expected}, but the files table or the store changed"
        return None
    if cell.check is not None:
        try:
            cell.check(service, files, actor, response)
        except AssertionError as exc:
            return f"{cell.endpoint}: answered {expected}, but {exc}"
    return None


@pytest.mark.parametrize("actor", ACTORS, ids=ACTOR_IDS)
def test_access_matrix(service: Service, actor: str | None) -> None:
    files = seed(service)
    with service.client(actor) as client:
        failures = [
            problem for cell in CELLS if (problem := run_cell(service, client, files, actor, cell))
        ]
    assert not failures, f"as {actor!r}:\n" + "\n".join(failures)


# Folders, batches, zips, usage and quotas ---------------------------------------------------
#
# Folder routes act on the caller's own tree, admins included: another owner's folder is
# indistinguishable from one that does not exist (never listed, moved, trashed or zipped).
# Batches answer 200 with a result per id; an id the caller cannot reach is ``not_found``.

FOLDERS = "/api/v1/folders"


def own_tree(ok: int) -> dict[str | None, int]:
    return {"alice": ok, "root": 404, "bob": 404, None: 401, "gone": 401}


def admins_only(ok: int) -> dict[str | None, int]:
    return {"alice": 403, "root": ok, "bob": 403, None: 401, "gone": 401}


@dataclass(frozen=True)
class FolderSeeded(Seeded):
    memo: dict[str, Any]


def seed_folders(service: Service) -> FolderSeeded:
    """Alice's files of ``seed`` and a memo in ``inbox/2026``."""
    base = seed(service)
    with service.client("alice") as alice:
        memo = upload(alice, samples.text(), "memo.txt", folder="inbox/2026")
    return FolderSeeded(base.private, base.public, base.trashed, base.photo, memo)


def status_of(service: Service, file_id: str) -> str | None:
    return (record(service, file_id) or {}).get("status")


def tree_listed(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
    paths = {item["path"] for item in r.json()["items"]}
    alices = {"docs", "site", "inbox"}
    assert (paths & alices == alices) if actor == "alice" else not paths & alices, paths


def zipped_private(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
    import io
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert [archive.read(name) for name in archive.namelist()] == [samples.pdf()]


def link_zips_private(
    service: Service, files: Seeded, actor: str | None, r: httpx.Response
) -> None:
    assert service.keys[str(actor)] not in r.json()["url"]
    with service.client(None) as anonymous:  # the link needs no key
        zipped_private(service, files, actor, anonymous.get(r.json()["url"]))


def usage_of_caller(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
    assert r.json()["owner"] == actor
    assert (r.json()["files"] > 0) == (actor == "alice"), r.json()


def quota_set(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
    assert r.json()["quota"]["max_bytes"] == 10**9
    assert service.db_rows("select max_bytes from quotas where owner = 'alice'") == [(10**9,)]


def batch_did(status: str) -> Check:
    def check(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
        (result,) = r.json()["results"]
        if actor == "bob":
            assert result["ok"] is False and result["error"] == "not_found", result
            assert status_of(service, files.private["id"]) == "active"
        else:
            assert result["ok"] is True, result
            assert status_of(service, files.private["id"]) == status

    return check


def copied_by_batch(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
    (result,) = r.json()["results"]
    assert result["ok"] is (actor != "bob"), result
    if result["ok"]:
        assert result["file"]["owner"] == "alice" and result["file"]["folder"] == "batch-copies"


def memo_in(folder: str, status: str) -> Check:
    def check(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
        assert isinstance(files, FolderSeeded)
        assert record(service, files.memo["id"]) == {
            "owner": "alice", "status": status, "description": None, "folder": folder,
            "is_public": False,
        }  # fmt: skip
        assert service.library().exists(files.memo["s3_key"])

    return check


def memo_gone(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
    assert isinstance(files, FolderSeeded)
    assert record(service, files.memo["id"]) is None
    assert not service.library().exists(files.memo["s3_key"])


def trash_emptied(service: Service, files: Seeded, actor: str | None, r: httpx.Response) -> None:
    if actor == "alice":
        assert r.json() == {"files": 1} and record(service, files.trashed["id"]) is None
        assert not service.library().exists(files.trashed["s3_key"])
    else:  # their own (empty) trash: alice's is untouched
        assert r.json() == {"files": 0}
        assert status_of(service, files.trashed["id"]) == "deleted"


def _batch(action: str, **extra: Any) -> Call:
    return lambda c, f: c.post(
        f"{API}/batch", json={"action": action, "ids": [_id(f, "private")], **extra}
    )


FOLDER_CELLS: list[Cell] = [
    Cell("GET /folders", lambda c, f: c.get(FOLDERS), any_owner(200), tree_listed),
    Cell("GET /files?folder=docs&recursive=true",
         lambda c, f: c.get(API, params={"folder": "docs", "recursive": True}),
         any_owner(200), finds_private),
    Cell("GET /folders/zip?path=docs", lambda c, f: c.get(f"{FOLDERS}/zip", params={"path": "docs"}),
         own_tree(200), zipped_private),
    Cell("POST /files/zip", lambda c, f: c.post(f"{API}/zip", json={"ids": [_id(f, "private")]}),
         owners_and_admins(200), zipped_private),
    Cell("POST /files/zip-link",
         lambda c, f: c.post(f"{API}/zip-link", json={"ids": [_id(f, "private")]}),
         owners_and_admins(200), link_zips_private),
    Cell("POST /folders/zip-link", lambda c, f: c.post(f"{FOLDERS}/zip-link", json={"path": "docs"}),
         own_tree(200), link_zips_private),
    Cell("GET /usage", lambda c, f: c.get("/api/v1/usage"), any_owner(200), usage_of_caller),
    Cell("GET /quotas/alice", lambda c, f: c.get("/api/v1/quotas/alice"), admins_only(200)),
    Cell("PUT /quotas/alice", lambda c, f: c.put("/api/v1/quotas/alice", json={"max_bytes": 10**9}),
         admins_only(200), quota_set),
    Cell("POST /files/batch trash", _batch("trash"), any_owner(200), batch_did("deleted")),
    Cell("POST /files/batch restore", _batch("restore"), any_owner(200), batch_did("active")),
    Cell("POST /files/batch copy", _batch("copy", folder="batch-copies"), any_owner(200),
         copied_by_batch),
    Cell("POST /folders", lambda c, f: c.post(FOLDERS, json={"path": "made"}), any_owner(201)),
    Cell("POST /folders/move inbox → archive/inbox",
         lambda c, f: c.post(f"{FOLDERS}/move", json={"from": "inbox", "to": "archive/inbox"}),
         own_tree(200), memo_in("archive/inbox/2026", "active")),
    Cell("DELETE /folders?path=archive", lambda c, f: c.delete(FOLDERS, params={"path": "archive"}),
         own_tree(200), memo_in("archive/inbox/2026", "deleted")),
    Cell("POST /folders/restore archive",
         lambda c, f: c.post(f"{FOLDERS}/restore", json={"path": "archive"}),
         own_tree(200), memo_in("archive/inbox/2026", "active")),
    Cell("DELETE /folders?path=archive&hard_delete=true",
         lambda c, f: c.delete(FOLDERS, params={"path": "archive", "hard_delete": True}),
         own_tree(200), memo_gone),
    Cell("DELETE /trash", lambda c, f: c.delete("/api/v1/trash"), any_owner(200), trash_emptied),
]  # fmt: skip


@pytest.mark.parametrize("actor", ACTORS, ids=ACTOR_IDS)
def test_folder_access_matrix(service: Service, actor: str | None) -> None:
    files = seed_folders(service)
    with service.client(actor) as client:
        failures = [
            problem
            for cell in FOLDER_CELLS
            if (problem := run_cell(service, client, files, actor, cell))
        ]
    assert not failures, f"as {actor!r}:\n" + "\n".join(failures)
