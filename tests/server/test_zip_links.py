"""Signed zip links (``POST /api/v1/files/zip-link``, ``POST /api/v1/folders/zip-link``,
``GET /api/v1/zip-links/{token}``): a URL with no key in it that streams the same archive
as the zip routes for five minutes; altered, expired or another owner's links refused;
what the caller may read checked again when the link is used."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from s3files.server.folders.zip_links import LINK_SECONDS
from s3files.signing import LocalURLSigner
from tests.server.conftest import Service, make_service

FILES = "/api/v1/files"
FOLDERS = "/api/v1/folders"


@pytest.fixture(
    scope="module", params=[("local", "sqlite"), ("s3", "postgres")], ids=lambda p: "-".join(p)
)
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    yield from make_service(tmp_path_factory.mktemp("zip-links"), request, *request.param)


def upload(client: httpx.Client, name: str, folder: str, content: bytes) -> dict[str, Any]:
    answer = client.post(
        f"{FILES}/upload", files={"file": (name, content)}, data={"folder": folder}
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def link(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(path, json=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def entries(answer: httpx.Response) -> dict[str, bytes]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    return {name: archive.read(name) for name in archive.namelist()}


def error_of(answer: httpx.Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    return str(answer.json()["error"])


def signer(service: Service) -> LocalURLSigner:
    """A signer under the service's own key (what an attacker does not have)."""
    assert service.settings.signing_key is not None
    secret = service.settings.signing_key.get_secret_value().encode()
    return LocalURLSigner(secret, service.url)


def test_links_stream_the_zip_without_a_key(service: Service) -> None:
    with service.client() as alice, service.client(None) as anonymous:
        one = upload(alice, "one.txt", "trip/day 1", b"first\n")
        two = upload(alice, "two.txt", "trip", b"second\n")
        made = link(alice, f"{FOLDERS}/zip-link", {"path": "trip"})
        assert made["expires_in"] == LINK_SECONDS
        seconds = datetime.fromisoformat(made["expires_at"]) - datetime.now(UTC)
        assert 0 < seconds.total_seconds() <= LINK_SECONDS
        assert made["url"].startswith(f"{service.url}/api/v1/zip-links/")
        assert service.keys["alice"] not in made["url"]

        by_link = anonymous.get(made["url"])
        assert 'filename="trip.zip"' in by_link.headers["content-disposition"]
        assert by_link.headers["cache-control"] == "private, no-store"
        expected = {"trip/day 1/one.txt": b"first\n", "trip/two.txt": b"second\n"}
        assert entries(by_link) == expected
        assert entries(alice.get(f"{FOLDERS}/zip", params={"path": "trip"})) == expected
        assert entries(anonymous.get(made["url"])) == expected  # again, within its minutes

        chosen = link(alice, f"{FILES}/zip-link", {"ids": [two["id"], one["id"], two["id"]]})
        assert entries(anonymous.get(chosen["url"])) == {
            "trip/day 1/one.txt": b"first\n",
            "trip/two.txt": b"second\n",
        }
        # a file gone since the link was made: the download checks again
        assert alice.delete(f"{FILES}/{one['id']}").status_code == 204
        assert error_of(anonymous.get(chosen["url"]), 404) == "not_found"
        assert entries(anonymous.get(made["url"])) == {"trip/two.txt": b"second\n"}


def test_links_are_scoped_to_the_caller_and_expire(service: Service) -> None:
    with (
        service.client() as alice,
        service.client("bob") as bob,
        service.client("root") as root,
        service.client(None) as anonymous,
    ):
        secret = upload(alice, "secret.txt", "private", b"alice only\n")
        upload(bob, "bobs.txt", "private", b"bob's\n")
        assert error_of(anonymous.post(f"{FILES}/zip-link", json={"ids": [secret["id"]]}), 401)
        assert error_of(bob.post(f"{FILES}/zip-link", json={"ids": [secret["id"]]}), 404)
        assert error_of(alice.post(f"{FOLDERS}/zip-link", json={"path": "nothing here"}), 404)
        assert error_of(alice.post(f"{FOLDERS}/zip-link", json={"path": "a/../b"}), 400)
        # bob's link to "private" is a zip of his own tree, never alice's
        bobs = link(bob, f"{FOLDERS}/zip-link", {"path": "private"})
        assert entries(anonymous.get(bobs["url"])) == {"private/bobs.txt": b"bob's\n"}
        # an admin's link reaches any owner's files, as POST /files/zip does
        admins = link(root, f"{FILES}/zip-link", {"ids": [secret["id"]]})
        assert entries(anonymous.get(admins["url"])) == {"private/secret.txt": b"alice only\n"}

        token = link(alice, f"{FILES}/zip-link", {"ids": [secret["id"]]})["url"].rsplit("/", 1)[1]
        payload, signature = token.split(".")
        base = f"{service.url}/api/v1/zip-links"
        altered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
        for forged in (f"{altered}.{signature}", payload, f"{payload}.", "x" * 50):
            assert error_of(anonymous.get(f"{base}/{forged}"), 403) == "invalid_signature"
        # a token under the service's key naming bob, for alice's file: checked on use
        as_bob, _ = signer(service).sign_token(
            "zip", {"o": "bob", "a": False, "i": payload_ids(token)}, expires_in=60
        )
        assert error_of(anonymous.get(f"{base}/{as_bob}"), 404) == "not_found"
        expired, _ = signer(service).sign_token(
            "zip", {"o": "alice", "a": False, "p": "private"}, expires_in=-1
        )
        assert error_of(anonymous.get(f"{base}/{expired}"), 403) == "expired_signature"
        other_purpose, _ = signer(service).sign_token(
            "upload", {"o": "alice", "a": False, "p": "private"}, expires_in=60
        )
        assert error_of(anonymous.get(f"{base}/{other_purpose}"), 403) == "invalid_signature"


def payload_ids(token: str) -> str:
    """The packed ids inside a link's token (read back without the key: not a secret)."""
    import base64
    import json

    payload = token.split(".")[0]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["i"])


def test_the_openapi_document_shows_the_routes_with_examples(service: Service) -> None:
    with service.client() as client:
        document = client.get("/openapi.json").json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    assert schemas["ZipLink"]["examples"][0]["expires_in"] == LINK_SECONDS
    for path, request in (
        ("/api/v1/files/zip-link", "ZipRequest"),
        ("/api/v1/folders/zip-link", "FolderZipLinkRequest"),
    ):
        operation = paths[path]["post"]
        assert operation["summary"] and operation["description"]
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ZipLink"
        }
        assert schemas[request]["examples"], request
        assert {"400", "401", "404"} <= set(operation["responses"])
    download = paths["/api/v1/zip-links/{token}"]["get"]
    assert "application/zip" in download["responses"]["200"]["content"]
    assert {"403", "404", "503"} <= set(download["responses"])
    assert download["parameters"][0]["schema"]["examples"]


def test_a_link_to_a_thousand_files_fits_in_a_url() -> None:
    import uuid

    from s3files.server.folders.zip_links import _pack, _unpack
    from s3files.server.http_protocol import MAX_URL_BYTES

    ids = [uuid.uuid4() for _ in range(1000)]
    assert _unpack(_pack(ids)) == ids
    token, _ = LocalURLSigner(b"k" * 32, "http://x").sign_token(
        "zip", {"o": "o" * 255, "a": False, "i": _pack(ids)}, expires_in=60
    )
    assert len(f"/api/v1/zip-links/{token}") < min(32768, MAX_URL_BYTES)
