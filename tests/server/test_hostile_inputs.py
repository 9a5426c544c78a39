"""Hostile input at every entry point of the files API: no 500, every refusal a JSON error,
no key or folder that escapes, and the database and the store still agree afterwards.

Problems are collected per test so that one run names every bad input."""

from __future__ import annotations

import base64
import json
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx

from tests import samples
from tests.corpus import HOSTILE_FILENAMES
from tests.server.conftest import Service

API = "/api/v1/files"
BOUNDARY = "s3f-hostile-boundary"
FORM_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
JSON = "application/json"
# A fresh connection per request: after a 500 the server drops the connection it answered on.
FRESH = httpx.Limits(max_keepalive_connections=0)
EXTRA_FOLDERS = [
    "a/" * 20, "x" * 1024, "x" * 1025, "/", "//", " ", "a/./b", "a/ .. /b",
    "/".join(["\u247d" * 50] * 16),  # NFKC makes each "⑽" four characters: 3215 in all
]  # fmt: skip


class Verdicts:
    """Collects what went wrong, so that one run lists every bad answer."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def check(self, label: str, response: httpx.Response, *allowed: int) -> bool:
        """True for a 2xx answer; records a 5xx, a 4xx that is not a JSON error, or a status
        outside ``allowed`` (when given)."""
        status, text = response.status_code, response.text[:200]
        if status >= 500:
            self.problems.append(f"{label}: {status} {text}")
        elif status >= 400 and not is_json_error(response):
            self.problems.append(f"{label}: {status} without a JSON error: {text}")
        if allowed and status not in allowed and status < 500:
            self.problems.append(f"{label}: expected {allowed}, got {status} {text}")
        return 200 <= status < 300

    def expect(self, label: str, condition: bool, detail: object = "") -> None:
        if not condition:
            self.problems.append(f"{label}: {detail}")


def is_json_error(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    fields = (body.get("error"), body.get("detail")) if isinstance(body, dict) else (None,)
    return all(isinstance(value, str) for value in fields)


@contextmanager
def verdicts(service: Service) -> Iterator[Verdicts]:
    """Yields a collector; afterwards the database and the store must agree, and every
    problem found fails the test."""
    found = Verdicts()
    yield found
    found.problems += store_and_database_disagreements(service)
    assert not found.problems, f"{len(found.problems)} problem(s):\n" + "\n".join(found.problems)


def store_and_database_disagreements(service: Service) -> list[str]:
    rows = service.db_rows("select key, status from files")
    library = service.library()
    problems = [f"record left pending: {key}" for key, status in rows if status == "pending"]
    problems += [f"record without an object: {key}" for key, _ in rows if not library.exists(key)]
    keys = {key for key, _ in rows}
    orphans = [info.key for info in library.iter_objects() if info.key not in keys]
    return problems + [f"object without a record: {key}" for key in orphans]


def unsafe_path(value: str, *, segment: bool = False) -> str | None:
    """Why ``value`` is not a safe key, folder or (``segment``) file name; None if it is."""
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs"} for ch in value):
        return f"control or format character in {value!r}"
    if "\\" in value or (segment and "/" in value):
        return f"separator in {value!r}"
    if value.startswith("/") or {".", ".."} & set(value.split("/")):
        return f"escaping path {value!r}"
    return None


def raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def part(name: bytes, value: bytes, filename: bytes | None = None) -> bytes:
    disposition = b'form-data; name="' + name + b'"'
    if filename is not None:
        disposition += b'; filename="' + filename + b'"'
    return raw_part(disposition, value)


def raw_part(disposition: bytes, value: bytes) -> bytes:
    head = f"--{BOUNDARY}\r\nContent-Disposition: ".encode()
    return head + disposition + b"\r\n\r\n" + value + b"\r\n"


def form(*parts: bytes, end: bool = True) -> bytes:
    return b"".join(parts) + (f"--{BOUNDARY}--\r\n".encode() if end else b"")


def file_part(name: str = "notes.txt", content: bytes | None = None) -> bytes:
    return part(b"file", samples.text() if content is None else content, raw(name))


def post_form(client: httpx.Client, body: bytes, content_type: str = FORM_TYPE) -> httpx.Response:
    return client.post(f"{API}/upload", content=body, headers={"Content-Type": content_type})


def send_json(client: httpx.Client, method: str, url: str, body: Any) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.request(method, url, content=content, headers={"Content-Type": JSON})


def content_for(name: str) -> bytes:
    """Real content of the type the name claims, so that most uploads get through."""
    return {"pdf": samples.pdf, "png": samples.png}.get(name.lower()[-3:], samples.text)()


def uploaded(client: httpx.Client, name: str = "notes.txt") -> dict[str, Any]:
    response = client.post(f"{API}/upload", files={"file": (name, samples.text())})
    assert response.status_code == 201, response.text
    return dict(response.json())


# Filenames and folders ----------------------------------------------------------------------


def check_stored(found: Verdicts, client: httpx.Client, label: str, body: Any, content: bytes) -> None:  # fmt: skip
    """A hostile name was accepted: key and name must be safe, and the bytes come back."""
    found.expect(label, unsafe_path(body["s3_key"]) is None, unsafe_path(body["s3_key"]))
    name = body["original_filename"]
    found.expect(label, unsafe_path(name, segment=True) is None, unsafe_path(name, segment=True))
    download = client.get(f"{API}/{body['id']}/download", params={"as_attachment": False})
    if found.check(f"{label}: download", download, 200):
        found.expect(f"{label}: download", download.content == content, "other bytes")


def test_hostile_filenames_in_multipart_upload(sqlite_service: Service) -> None:
    with verdicts(sqlite_service) as found, sqlite_service.client(limits=FRESH) as client:
        for name in HOSTILE_FILENAMES:
            content = content_for(name)
            response = post_form(client, form(file_part(name, content)))
            if found.check(f"upload filename={name!r}", response):
                check_stored(found, client, f"upload filename={name!r}", response.json(), content)


CLAIMED_TYPES = [
    "text/html", "image/svg+xml", "application/x-msdownload", "../../etc/passwd", "a" * 1000,
    "text/plain; charset=\u00ff", "*/*", "multipart/form-data; boundary=x", ";", "text/plain;;;",
]  # fmt: skip


def test_hostile_filenames_in_stream_upload(sqlite_service: Service) -> None:
    with verdicts(sqlite_service) as found, sqlite_service.client(limits=FRESH) as client:
        for name in HOSTILE_FILENAMES:
            content = content_for(name)
            response = client.post(f"{API}/stream?filename={quote(raw(name), safe='')}", content=content)  # fmt: skip
            if found.check(f"stream filename={name!r}", response):
                check_stored(found, client, f"stream filename={name!r}", response.json(), content)
        for claimed in CLAIMED_TYPES:
            headers = {"Content-Type": raw(claimed)}
            response = client.post(f"{API}/stream?filename=a.txt", content=samples.text(), headers=headers)  # fmt: skip
            if found.check(label := f"stream Content-Type {claimed[:60]!r}", response):
                sniffed = response.json()["content_type"]
                found.expect(label, sniffed == "text/plain", f"stored as {sniffed!r}")


def test_hostile_folders(sqlite_service: Service) -> None:
    with verdicts(sqlite_service) as found, sqlite_service.client(limits=FRESH) as client:
        file_id = uploaded(client)["id"]
        for folder in HOSTILE_FILENAMES + EXTRA_FOLDERS:
            attempts = {
                "upload": post_form(client, form(part(b"folder", raw(folder)), file_part())),
                "stream": client.post(f"{API}/stream?filename=a.txt&folder={quote(raw(folder), safe='')}", content=samples.text()),
                "patch": send_json(client, "PATCH", f"{API}/{file_id}", {"folder": folder}),
                "copy": send_json(client, "POST", f"{API}/{file_id}/copy", {"new_folder": folder}),
            }  # fmt: skip
            for where, response in attempts.items():
                label = f"{where} folder={folder[:80]!r}"
                if found.check(label, response):
                    saved = response.json()["folder"]
                    found.expect(label, unsafe_path(saved) is None, unsafe_path(saved))
        found.check("list after folders", client.get(API, params={"limit": 200}), 200)


# Metadata -----------------------------------------------------------------------------------

HOSTILE_METADATA: list[str] = [
    "not json", "{", "[1, 2]", '"text"', "null", "123", "true", "", "{}",
    json.dumps({"a": {"b": {"c": {"d": {"e": "x" * 5000}}}}}),
    '{"with space": 1}', '{"\u00fcn\u00efcode": 1}', '{"": 1}', '{"a.b": 1}', '{"A": 1, "a": 2}',
    '{"n": 1e999}', '{"n": -1e999}', '{"n": NaN}', '{"n": Infinity}', '{"n": 1e-999}',
    '{"n": ' + "9" * 1000 + "}", '{"n": ' + "9" * 5000 + "}",
    '{"deep": ' + "[" * 30_000 + "]" * 30_000 + "}",
    '{"s": "\\ud800"}', '{"s": "nul\\u0000byte"}', '{"s": "\\u202egnp.exe"}',
]  # fmt: skip


def test_hostile_metadata(sqlite_service: Service) -> None:
    with verdicts(sqlite_service) as found, sqlite_service.client(limits=FRESH) as client:
        file_id = uploaded(client)["id"]
        for text in HOSTILE_METADATA:
            attempts = {
                "upload": post_form(client, form(file_part(), part(b"metadata", raw(text)))),
                "stream": client.post(f"{API}/stream?filename=a.txt&metadata={quote(raw(text[:10_000]), safe='')}", content=samples.text()),
                "patch": send_json(client, "PATCH", f"{API}/{file_id}", raw(f'{{"metadata": {text}}}')),
                "copy": send_json(client, "POST", f"{API}/{file_id}/copy", raw(f'{{"new_metadata": {text}}}')),
            }  # fmt: skip
            for where, response in attempts.items():
                label = f"{where} metadata={text[:60]!r}"
                if found.check(label, response):
                    body = response.json()
                    found.expect(label, isinstance(body["metadata"], dict), response.text[:200])
                    found.check(f"{label}: read back", client.get(f"{API}/{body['id']}"), 200)
        found.check("list after metadata", client.get(API, params={"limit": 200}), 200)


# Malformed requests -------------------------------------------------------------------------


def malformed_uploads() -> list[tuple[str, str, bytes]]:
    fields_40 = [part(f"f{i}".encode(), b"x") for i in range(40)]
    big = part(b"description", b"d" * (64 * 1024 + 1))
    whole = form(file_part())
    return [
        ("no boundary", "multipart/form-data", whole),
        ("empty boundary", "multipart/form-data; boundary=", whole),
        ("other boundary", "multipart/form-data; boundary=nope", whole),
        ("empty body", FORM_TYPE, b""),
        ("garbage body", FORM_TYPE, bytes(range(256)) * 4),
        ("truncated in the file", FORM_TYPE, whole[: len(whole) // 2]),
        ("truncated in part headers", FORM_TYPE, whole[:40]),
        ("no closing boundary", FORM_TYPE, form(file_part(), end=False)),
        ("two file parts", FORM_TYPE, form(file_part(), file_part("b.txt"))),
        ("field over 64 KiB before the file", FORM_TYPE, form(big, file_part())),
        ("field over 64 KiB after the file", FORM_TYPE, form(file_part(), big)),
        ("no file part", FORM_TYPE, form(part(b"folder", b"docs"))),
        ("no filename", FORM_TYPE, form(part(b"file", samples.text()))),
        ("empty filename", FORM_TYPE, form(part(b"file", samples.text(), b""))),
        ("only filename*", FORM_TYPE, form(raw_part(b"form-data; name=file; filename*=utf-8''a.txt", b"x"))),
        ("part without a name", FORM_TYPE, form(raw_part(b'form-data; filename="a.txt"', b"x"))),
        ("40 fields before the file", FORM_TYPE, form(*fields_40, file_part())),
        ("40 fields after the file", FORM_TYPE, form(file_part(), *fields_40)),
        ("unknown field", FORM_TYPE, form(file_part(), part(b"owner", b"root"))),
        ("field not UTF-8", FORM_TYPE, form(part(b"description", b"\xff\xfe"), file_part())),
        ("is_public=maybe", FORM_TYPE, form(file_part(), part(b"is_public", b"maybe"))),
        ("description of 10001 characters", FORM_TYPE, form(file_part(), part(b"description", b"d" * 10_001))),
        ("file part named upload", FORM_TYPE, form(part(b"upload", samples.text(), b"a.txt"))),
        ("empty file", FORM_TYPE, form(file_part(content=b""))),
        ("JSON body", "application/json", b'{"file": "aGVsbG8=", "filename": "a.txt"}'),
        ("urlencoded body", "application/x-www-form-urlencoded", b"file=hello&filename=a.txt"),
        ("multipart/mixed", f"multipart/mixed; boundary={BOUNDARY}", whole),
        ("no content type", "", whole),
    ]  # fmt: skip


def test_malformed_multipart_bodies(sqlite_service: Service) -> None:
    with verdicts(sqlite_service) as found, sqlite_service.client(limits=FRESH) as client:
        for label, content_type, body in malformed_uploads():
            headers = {"Content-Type": content_type} if content_type else {}
            response = client.post(f"{API}/upload", content=body, headers=headers)
            found.check(label, response, *range(400, 500))
        found.check("LF line endings", post_form(client, form(file_part()).replace(b"\r\n", b"\n")))


BAD_IDS = [
    "not-a-uuid", "123", "0" * 33, "00000000-0000-0000-0000-00000000000g", "%00", "%ff%fe",
    "..%2F..%2Fetc%2Fpasswd", "'%20or%201=1%20--", "x" * 2000, "%E2%80%AE",
]  # fmt: skip


def test_bad_ids_in_paths(sqlite_service: Service) -> None:
    with verdicts(sqlite_service) as found, sqlite_service.client(limits=FRESH) as client:
        for bad in BAD_IDS:
            for method, suffix, body in [
                ("GET", "", None), ("GET", "/metadata", None), ("PATCH", "", {}),
                ("GET", "/download", None), ("GET", "/presigned-url", None), ("POST", "/copy", {}),
                ("DELETE", "", None), ("DELETE", "?hard_delete=true", None), ("POST", "/restore", None),
            ]:  # fmt: skip
                response = client.request(method, f"{API}/{bad}{suffix}", json=body)
                found.check(f"{method} /files/{bad[:40]}{suffix}", response, 404, 422)


def cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_bad_query_values(sqlite_service: Service) -> None:
    with verdicts(sqlite_service) as found, sqlite_service.client(limits=FRESH) as client:
        one = f"{API}/{uploaded(client)['id']}"
        cases: list[tuple[str, str, dict[str, Any], tuple[int, ...]]] = [
            *[("GET", API, {"limit": v}, (422,)) for v in ("0", "-1", "100000", "abc", "1.5", "9" * 5000)],
            *[("GET", API, {"cursor": v}, (400, 422)) for v in (
                "garbage", "!!!", "a" * 513, base64.urlsafe_b64encode(b"\xff\xfe").decode(),
                cursor(["x", 5]), cursor(["2024-01-01", 5]), cursor(["2024-01-01", ["a"]]),
                cursor([1, 2, 3]), cursor({"a": 1}), cursor(None),
            )],
            *[("GET", API, {"content_type": v}, (200,)) for v in ("%", "image/%", "%/*", "_/*", "\\", "*")],
            ("GET", API, {"content_type": "x" * 300}, (422,)),
            *[("GET", API, {"search": v}, (200,)) for v in ("%", "_", "\\", "%_%", "'")],
            ("GET", API, {"folder": "%"}, (200,)),
            ("GET", API, {"deleted": "maybe"}, (422,)),
            *[("GET", f"{one}/presigned-url", {"expiry": v}, (422,)) for v in ("-5", "0", "604801", "abc", "9" * 5000)],
            ("GET", f"{one}/presigned-url", {"force_download": "maybe"}, (422,)),
            ("GET", f"{one}/download", {"as_attachment": "maybe"}, (422,)),
            ("DELETE", one, {"hard_delete": "maybe"}, (422,)),
            ("POST", f"{API}/stream", {"filename": ""}, (422,)),
            ("POST", f"{API}/stream", {}, (422,)),
            ("POST", f"{API}/stream", {"filename": "a" * 1025 + ".txt"}, (422,)),
            ("POST", f"{API}/stream", {"filename": "a.txt", "is_public": "maybe"}, (422,)),
            ("POST", f"{API}/stream", {"filename": "a.txt", "description": "d" * 10_001}, (422,)),
        ]  # fmt: skip
        for method, url, params, allowed in cases:
            body = samples.text() if method == "POST" else None
            response = client.request(method, url, params=params, content=body)
            found.check(f"{method} {url.removeprefix(API)} {str(params)[:80]}", response, *allowed)
        for body in (b"{", b"[]", b'{"owner": "bob"}', b'{"is_public": "maybe", "metadata": 5}'):
            found.check(f"PATCH {body!r}", send_json(client, "PATCH", one, body), 422)
            found.check(f"copy {body!r}", send_json(client, "POST", f"{one}/copy", body), 422)
        found.check("PATCH form body", client.patch(one, data={"description": "x"}), 422)
        found.check("copy without a body", client.post(f"{one}/copy"), 422)


# Range and Authorization headers -------------------------------------------------------------


def test_range_headers(sqlite_service: Service) -> None:
    content = samples.text(1000)
    size = len(content)
    with verdicts(sqlite_service) as found, sqlite_service.client(limits=FRESH) as client:
        response = client.post(f"{API}/stream", params={"filename": "r.txt"}, content=content)
        url = f"{API}/{response.json()['id']}/download"
        malformed = [
            "bytes", "bytes=", "bytes=-", "bytes=a-b", "items=0-5", "bytes=0-1,3-4", "bytes=--5",
            "bytes 0-5", "bytes=0x10-", "bytes=1-2-3", "bytes=\u00b9-", "=0-5", "bytes=0-5 junk",
        ]  # fmt: skip
        for value in malformed:
            answer = client.get(url, headers={"Range": value.encode("latin-1")})
            if found.check(f"Range {value!r}", answer, 200):
                found.expect(f"Range {value!r}", answer.content == content, "not the full body")
        unsatisfiable = [f"bytes={size}-", f"bytes={size + 100}-{size + 200}", "bytes=-0", "bytes=" + "1" * 5000 + "-"]  # fmt: skip
        for value in unsatisfiable:
            answer = client.get(url, headers={"Range": value})
            found.check(label := f"Range {value[:40]!r}", answer, 416)
            if answer.status_code == 416:
                found.expect(label, answer.headers.get("content-range") == f"bytes */{size}", answer.headers)  # fmt: skip
        satisfiable = [("bytes=0-9", 0, 9), (f"bytes=-{size * 2}", 0, size - 1), ("bytes=-" + "9" * 5000, 0, size - 1), (f"bytes={size - 1}-" + "9" * 30, size - 1, size - 1)]  # fmt: skip
        for value, first, last in satisfiable:
            answer = client.get(url, headers={"Range": value})
            if found.check(label := f"Range {value[:40]!r}", answer, 206):
                found.expect(label, answer.content == content[first : last + 1], "wrong slice")
        invalid = client.get(url, headers={"Range": "bytes=5-2"})  # RFC 9110: ignore or refuse
        found.check("Range 'bytes=5-2'", invalid, 200, 416)
        for value in ("*", '"garbage"', "W/", ",,,", "W/" + '"x"' * 2000):
            answer = client.get(url, headers={"If-None-Match": value})
            found.check(f"If-None-Match {value[:20]!r}", answer, 200, 304)


def test_hostile_authorization_headers(sqlite_service: Service) -> None:
    with verdicts(sqlite_service) as found, sqlite_service.client(limits=FRESH) as alice:
        private = uploaded(alice)["id"]
        files = {"file": ("p.png", samples.png())}
        public = alice.post(f"{API}/upload", files=files, data={"is_public": "true"}).json()["id"]
        key = sqlite_service.keys["alice"]
        values: list[str | bytes] = [
            "Bearer", "bearer", "Basic xxx", "Basic " + base64.b64encode(b"alice:pw").decode(),
            "Bearer s3f_", "Bearer s3f_" + "junk!@#", "Bearer s3f_" + "x" * 8000, "Bearer " + "x" * 8000,
            b"Bearer s3f_\xff\xfe", "Token " + key, "Bearer a b c", "Bearer " + key + "x", "Bearer " + key[:-1],
            "Bearer " + key.upper(), "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.", "Bearer " + sqlite_service.keys["gone"],
        ]  # fmt: skip
        for value in values:
            label = repr(value)[:60]
            headers = {"Authorization": value}
            with httpx.Client(base_url=sqlite_service.url, headers=headers, limits=FRESH) as client:
                for method, url in [
                    ("GET", API), ("GET", f"{API}/{private}"), ("GET", f"{API}/{private}/download"),
                    ("POST", f"{API}/stream?filename=a.txt"), ("POST", f"{API}/upload"), ("DELETE", f"{API}/{private}"),
                ]:  # fmt: skip
                    body = samples.text() if method == "POST" else None
                    response = client.request(method, url, content=body)
                    where = f"{label} {method} {url.removeprefix(API)}"
                    found.check(where, response, 401)
                    if response.status_code == 401:
                        found.expect(
                            where, response.json()["error"] == "unauthorized", response.text
                        )
                answer = client.get(f"{API}/{public}/download")
                found.check(f"{label} public download", answer, 200, 401)


# Values one database stores and the other refuses --------------------------------------------


def test_values_a_database_may_refuse(service: Service) -> None:
    """NUL characters, NaN and infinities, and a folder that grows past the 1024 characters of
    its column once normalised (each "⑽" becomes "(10)"): stored or refused with a 4xx, on
    SQLite and PostgreSQL alike, and nothing left half-done. Runs on all four combinations."""
    grown = "/".join(["\u247d" * 50] * 16)
    nul, nan, inf = '"a\\u0000b"', '{"n": NaN}', '{"n": 1e999}'
    with verdicts(service) as found, service.client(limits=FRESH) as client:
        one = f"{API}/{uploaded(client)['id']}"
        for label, body in [
            ("description with NUL", f'{{"description": {nul}}}'), ("folder with NUL", f'{{"folder": {nul}}}'),
            ("metadata with NUL", f'{{"metadata": {{"s": {nul}}}}}'), ("metadata NaN", f'{{"metadata": {nan}}}'),
            ("metadata Infinity", f'{{"metadata": {inf}}}'), ("grown folder", json.dumps({"folder": grown})),
        ]:  # fmt: skip
            if found.check(f"PATCH {label}", send_json(client, "PATCH", one, body.encode())):
                found.check(f"PATCH {label}: read back", client.get(one), 200)
        for label, body in [("NaN", f'{{"new_metadata": {nan}}}'), ("grown folder", json.dumps({"new_folder": grown}))]:  # fmt: skip
            found.check(f"copy {label}", send_json(client, "POST", f"{one}/copy", body.encode()))
        for label, field, value in [
            ("description with NUL", b"description", b"a\x00b"), ("folder of 3215 characters", b"folder", raw(grown)),
            ("metadata NaN", b"metadata", nan.encode()), ("metadata Infinity", b"metadata", inf.encode()),
        ]:  # fmt: skip
            found.check(f"upload {label}", post_form(client, form(file_part(), part(field, value))))
            query = f"filename=a.txt&{field.decode()}={quote(value, safe='')}"
            answer = client.post(f"{API}/stream?{query}", content=samples.text())
            found.check(f"stream {label}", answer)
        for name in ("search", "folder", "content_type"):
            found.check(f"list {name} with NUL", client.get(API, params={name: "a\x00b"}), 400)
        found.check("list after all", client.get(API, params={"limit": 200}), 200)
