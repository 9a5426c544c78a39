"""Two names of one MIME type agree: XML sniffed as ``text/xml`` and named ``.xml``
(``application/xml``) is stored, as are a Python script libmagic calls
``text/x-script.python`` and a zip a Windows browser claims as
``application/x-zip-compressed``; on both stores, through ``FileStore.upload``."""

from __future__ import annotations

import pytest

from s3files import FileStore, LocalStore, S3Store, UnsupportedFileTypeError, UploadPolicy
from s3files.validation import (
    DEFAULT_ALLOWED_EXTENSIONS,
    DEFAULT_ALLOWED_MIME_TYPES,
    canonical_type,
    resolve_content_type,
)
from tests import samples

XML = b'<?xml version="1.0" encoding="UTF-8"?>\n<catalog><book id="1">Dune</book></catalog>\n'
RSS = b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>x</title></channel></rss>\n'
PYTHON = b"#!/usr/bin/env python3\nimport os\n\n\ndef main():\n    print(os.getcwd())\n"


def policy(extensions: set[str], mime_types: set[str]) -> UploadPolicy:
    return UploadPolicy(
        max_size=1024 * 1024,
        allowed_extensions=DEFAULT_ALLOWED_EXTENSIONS | extensions,
        allowed_mime_types=DEFAULT_ALLOWED_MIME_TYPES | mime_types,
    )


@pytest.mark.parametrize("allowed", ["application/xml", "text/xml"])
def test_xml_named_xml_is_stored_as_application_xml(
    any_store: LocalStore | S3Store, allowed: str
) -> None:
    files = FileStore(any_store, policy=policy({"xml"}, {allowed}))
    for claimed in (None, "text/xml", "application/xml; charset=utf-8"):
        stored = files.upload(XML, filename="catalog.xml", content_type=claimed)
        assert stored.content_type == "application/xml", claimed
        assert files.download(stored.key) == XML
    assert len(files.list().items) == 3


def test_other_aliases_agree_and_real_mismatches_stay_refused(
    any_store: LocalStore | S3Store,
) -> None:
    files = FileStore(any_store, policy=UploadPolicy.permissive(max_size=1024 * 1024))
    assert files.upload(PYTHON, filename="tool.py").content_type == "text/x-python"
    zipped = files.upload(
        samples.zip_archive(), filename="bundle.zip", content_type="application/x-zip-compressed"
    )
    assert zipped.content_type == "application/zip"
    assert files.upload(RSS, filename="feed.rss").content_type == "application/x-rss+xml"
    assert files.upload(XML, filename="notes.txt").content_type == "text/plain"
    with pytest.raises(UnsupportedFileTypeError) as caught:
        files.upload(XML, filename="photo.png")
    assert caught.value.reason == "type_mismatch"
    with pytest.raises(UnsupportedFileTypeError) as caught:
        files.upload(samples.zip_archive(), filename="a.zip", content_type="application/pdf")
    assert caught.value.reason == "type_mismatch"


def test_the_default_allowlist_takes_a_zip_under_its_windows_name(
    any_store: LocalStore | S3Store,
) -> None:
    files = FileStore(any_store, policy=UploadPolicy())
    stored = files.upload(
        samples.zip_archive(), filename="photos.zip", content_type="application/x-zip-compressed"
    )
    assert stored.content_type == "application/zip"


def test_every_alias_resolves_to_a_name_that_is_its_own() -> None:
    pairs = {
        ("text/xml", "xml"): "application/xml",
        ("text/x-script.python", "py"): "text/x-python",
        ("text/x-shellscript", "sh"): "text/x-sh",
        ("application/x-gzip", "gz"): "application/gzip",
        ("application/x-rar", "rar"): "application/vnd.rar",
        ("audio/x-wav", "wav"): "audio/wav",
        ("application/x-dosexec", "exe"): "application/x-msdownload",
    }
    for (sniffed, extension), expected in pairs.items():
        assert resolve_content_type(sniffed, extension) == expected, sniffed
        assert canonical_type(expected) == expected
    assert canonical_type("Text/XML; charset=utf-8") == "application/xml"
    assert canonical_type("image/svg+xml") == "image/svg+xml"
