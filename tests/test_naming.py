"""Keys from untrusted names: the hostile corpus never escapes the intended prefix."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest

from s3files import (
    FileStore,
    InvalidFilenameError,
    InvalidInputError,
    InvalidKeyError,
    LocalStore,
    NamingPolicy,
    S3Store,
    UploadPolicy,
    build_key,
    sanitize_filename,
)
from s3files._errors import ConfigurationError
from s3files.naming import folder_path, name_upload, sanitize_folder, validate_key
from tests.corpus import HOSTILE_FILENAMES

NOW = datetime(2025, 1, 15, 14, 30, 22, tzinfo=UTC)
ID = UUID("12345678-1234-4234-9234-123456789abc")
BIDI_AND_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn"}


def assert_safe_segment(name: str) -> None:
    assert name and "/" not in name and "\\" not in name
    assert name not in {".", ".."} and not name.startswith(".")
    assert not any(unicodedata.category(c) in BIDI_AND_INVISIBLE for c in name)
    assert len(name.encode()) <= 200
    assert unicodedata.normalize("NFKC", name) == name


def test_corpus_is_big_enough() -> None:
    assert len(HOSTILE_FILENAMES) >= 40


@pytest.mark.parametrize("name", HOSTILE_FILENAMES)
def test_hostile_names_become_safe_segments_or_are_refused(name: str) -> None:
    try:
        cleaned = sanitize_filename(name)
    except InvalidFilenameError:
        return
    assert_safe_segment(cleaned)


@pytest.mark.parametrize("name", HOSTILE_FILENAMES)
def test_hostile_folders_stay_inside(name: str) -> None:
    try:
        folder = sanitize_folder(name)
    except InvalidKeyError:
        return
    for segment in filter(None, folder.split("/")):
        assert_safe_segment(segment)


@pytest.mark.parametrize("name", HOSTILE_FILENAMES)
def test_hostile_folder_paths_stay_inside_and_visible(name: str) -> None:
    try:
        path = folder_path(name)
    except InvalidKeyError:
        return
    assert path == folder_path(path)  # stable: stored paths are their own folder path
    assert not path.startswith("/") and not path.endswith("/")
    for segment in path.split("/") if path else []:
        assert segment and segment == segment.strip() and set(segment) - {"."}
        assert unicodedata.is_normalized("NFC", segment)
        assert not any(unicodedata.category(c) in {"Cc", "Cs", "Co", "Cn"} for c in segment)
        assert not any(unicodedata.category(c) == "Cf" and c != "\u200d" for c in segment)
    assert folder_path(sanitize_folder(path)) == sanitize_folder(path)


def test_folder_paths_keep_names_and_keys_take_the_conservative_form() -> None:
    assert folder_path("Holiday 🌴") == "Holiday 🌴"
    assert sanitize_folder(folder_path("Holiday 🌴")) == "Holiday _"
    assert folder_path("/\u202eשלום\u200f/ 👨\u200d👩\u200d👧 //cafe\u0301/") == (  # noqa: RUF001
        "שלום/👨\u200d👩\u200d👧/café"
    )
    assert folder_path("a\\b") == "a/b"
    assert folder_path("a/.../b") == "a/b"
    assert folder_path("con/Holiday _") == "con/Holiday _"  # only keys avoid device names
    for climbing in ("a/../b", "..", " . /x", "x/..\\y"):
        with pytest.raises(InvalidKeyError):
            folder_path(climbing)
    with pytest.raises(InvalidKeyError):
        folder_path("/".join(["🌴"] * 17))
    with pytest.raises(InvalidKeyError):
        folder_path("/".join(["🌴" * 40] * 4))  # past 512 bytes
    assert folder_path(None) == folder_path("") == folder_path("/") == ""


def test_examples() -> None:
    assert sanitize_filename("../../etc/pass\u202ewd.txt") == "passwd.txt"
    assert sanitize_filename("My Report (final).PDF") == "My Report (final).PDF"
    assert sanitize_filename("caf\u0065\u0301.txt") == "caf\u00e9.txt"
    assert sanitize_filename("con.txt") == "_con.txt"
    assert sanitize_filename("a<b>c.txt") == "a_b_c.txt"
    long = sanitize_filename("x" * 500 + ".pdf")
    assert long.endswith(".pdf") and len(long) == 200
    emoji = sanitize_filename("\U0001f600" * 100 + ".png")
    assert emoji.endswith(".png") and len(emoji.encode()) <= 200
    for hopeless in ["", "..", "...", "\u202e", "/", "\x00\x01"]:
        with pytest.raises(InvalidFilenameError):
            sanitize_filename(hopeless)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("con.txt", "_con.txt"),
        ("con .txt", "_con.txt"),  # trimmed to con.txt: the check must see the trimmed name
        ("CON  ..txt", "_CON.txt"),
        ("nul .", "_nul"),
        ("lpt1 .log", "_lpt1.log"),
        ("aux.tar.gz", "_aux.tar.gz"),
        ("com\u00b9.txt", "_com1.txt"),  # NFKC turns the superscript into a digit
        ("console.txt", "console.txt"),
        ("icon .txt", "icon.txt"),
    ],
)
def test_windows_device_names_are_prefixed_after_trimming(name: str, expected: str) -> None:
    assert sanitize_filename(name) == expected


def test_windows_device_names_in_long_names_and_folders() -> None:
    long = sanitize_filename("con." + "x" * 300 + ".txt")
    assert long.startswith("_con.") and long.endswith(".txt") and len(long) == 200
    assert sanitize_folder("con /nul .x/a/ aux ") == "_con/_nul .x/a/_aux"


def test_brief_004_naming_examples() -> None:
    uuid_policy = NamingPolicy()
    assert build_key("document.pdf", policy=uuid_policy, now=NOW, uuid_value=ID) == (
        f"2025/01/15/{ID}_document.pdf"
    )
    stamp = NamingPolicy(strategy="timestamp")
    assert build_key("document.pdf", policy=stamp, now=NOW) == (
        "2025/01/15/20250115_143022_document.pdf"
    )
    original = NamingPolicy(strategy="original", folder_structure="")
    assert build_key("document.pdf", policy=original, now=NOW) == "document.pdf"
    year_month = NamingPolicy(strategy="original", folder_structure="uploads/{year}-{month}")
    assert build_key("file.pdf", policy=year_month, now=NOW) == "uploads/2025-01/file.pdf"
    hourly = NamingPolicy(strategy="original", folder_structure="{year}/{month}/{day}/{hour}")
    assert build_key("file.pdf", policy=hourly, now=NOW) == "2025/01/15/14/file.pdf"
    custom = NamingPolicy(strategy="original", folder_structure="documents/user-uploads")
    assert build_key("file.pdf", policy=custom, now=NOW) == "documents/user-uploads/file.pdf"
    per_upload = build_key("r.pdf", policy=original, folder="users/42/documents", now=NOW)
    assert per_upload == "users/42/documents/r.pdf"


def test_brief_001_naming() -> None:
    policy = NamingPolicy(preserve_filename=False, folder_structure="uploads")
    assert build_key("example.JPG", policy=policy, uuid_value=ID) == f"uploads/{ID}.jpg"
    assert build_key("no_extension", policy=policy, uuid_value=ID) == f"uploads/{ID}"


def test_bad_templates_and_folders() -> None:
    with pytest.raises(ConfigurationError, match="S3_FOLDER_STRUCTURE"):
        NamingPolicy(folder_structure="{user}/{year}")
    with pytest.raises(ConfigurationError):
        NamingPolicy(strategy="random")  # type: ignore[arg-type]
    with pytest.raises(InvalidKeyError):
        sanitize_folder("a/../b")
    with pytest.raises(InvalidKeyError):
        sanitize_folder("/".join(["d"] * 40))
    assert sanitize_folder("//a///b/ ") == "a/b"
    assert sanitize_folder("\u202eevil/\u200bx") == "evil/x"
    with pytest.raises(InvalidKeyError):
        validate_key("k" * 1025)


@pytest.mark.parametrize("name", HOSTILE_FILENAMES)
def test_hostile_uploads_land_under_the_prefix(
    name: str, any_store: LocalStore | S3Store, tmp_path: Path
) -> None:
    files = FileStore(
        any_store,
        policy=UploadPolicy.permissive(),
        naming=NamingPolicy(strategy="original", folder_structure="inbox"),
    )
    for folder in (None, name):
        try:
            stored = files.upload(b"hostile", filename=name, folder=folder)
        except InvalidInputError:
            continue
        expected = "/".join(part for part in (sanitize_folder(folder), "inbox") if part) + "/"
        assert stored.key.startswith(expected)
        assert ".." not in stored.key.split("/")
        validate_key(stored.key)
        assert files.download(stored.key) == b"hostile"
        if isinstance(any_store, LocalStore):
            path = (any_store.root / stored.key).resolve()
            assert any_store.root.resolve() in path.parents
        else:
            listed = any_store.client.list_objects_v2(
                Bucket=any_store.bucket, Prefix=any_store.prefix + "/"
            )
            assert all(o["Key"].startswith(any_store.prefix + "/") for o in listed["Contents"])


def test_every_way_in_names_an_upload_by_one_rule(tmp_path: Path) -> None:
    """A library upload and a direct upload's plan get their display name and key from
    ``name_upload``: ``[prefix/]{folder}/{template}/<uuid>_<conservative name>``, the
    display name kept minus bidi, zero-width characters and separators."""
    from s3files.naming import name_upload

    files = FileStore(LocalStore(tmp_path), policy=UploadPolicy.permissive())
    given, shown = "🎉 party —\u202e plan/v2\u200b.txt", "🎉 party — plan_v2.txt"
    named = name_upload(
        given, policy=files.naming, folder="docs", key_prefix="users/{owner}", owner="alice"
    )
    assert named.display_name == shown and named.safe_name == sanitize_filename(shown)
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    assert named.key.startswith(f"users/alice/docs/{day}/")
    assert named.key.endswith(f"_{named.safe_name}")

    stored = files.upload(b"hello", filename=given, folder="docs")
    plan = files.plan_direct_upload(given, "text/plain", prefix="docs")
    for key, name in ((stored.key, stored.original_filename), (plan.key, plan.filename)):
        assert name == shown
        assert key.startswith(f"docs/{day}/") and key.endswith(f"_{named.safe_name}")
    owned = files.plan_direct_upload(given, None, key_prefix="users/{owner}", owner="bob")
    assert owned.key.startswith(f"users/bob/{day}/")
    with pytest.raises(ConfigurationError):
        name_upload("a.txt", policy=files.naming, key_prefix="users/{owner}")


@pytest.mark.parametrize("given", ["÷", "🎉", "«»"])
def test_a_name_the_key_cannot_spell_still_names_an_upload(given: str) -> None:
    named = name_upload(given, policy=NamingPolicy(strategy="original", folder_structure=""))
    assert named.display_name == given
    assert named.key == "file" and named.safe_name == "file"


@pytest.mark.parametrize("given", ["", "...", " . ", "\u200b\u202e"])
def test_a_name_with_nothing_to_show_is_refused(given: str) -> None:
    with pytest.raises(InvalidFilenameError):
        name_upload(given, policy=NamingPolicy(strategy="original", folder_structure=""))
