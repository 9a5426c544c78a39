"""A file named as a format with a signature (PDF, PNG, Office ...) must carry it.

Plain text named ``invoice.pdf`` is refused exactly like HTML named ``fake.png``: the same
``UnsupportedFileTypeError`` (reason ``type_mismatch``, HTTP 415 in the service), on both
stores, through ``FileStore.upload`` and through the verification of a direct upload.
"""

from __future__ import annotations

import pytest

from s3files import FileStore, LocalStore, S3Store, UnsupportedFileTypeError, UploadPolicy
from s3files._models import PutOptions
from s3files.validation import SIGNATURE_FORMATS, expected_type_for_extension, resolve_content_type
from tests import samples

# Extensions on the default allowlist whose formats start with a signature.
ALLOWED_BINARY = ["pdf", "png", "jpg", "jpeg", "gif", "webp", "zip", "docx", "xlsx", "doc", "xls"]
# Further formats with a signature, uploaded under a permissive policy.
OTHER_BINARY = ["pptx", "ppt", "mp4", "mp3", "wav", "bmp", "tif", "odt", "7z", "gz", "woff2"]
TEXT_LIKE = {
    "text": samples.text(2000),
    "html": samples.html(),
    "short text": b"fake pdf content",
}


def nothing_stored(files: FileStore) -> bool:
    return files.list().items == []


@pytest.mark.parametrize("extension", ALLOWED_BINARY)
@pytest.mark.parametrize("kind", sorted(TEXT_LIKE))
def test_text_under_a_binary_name_is_refused(files: FileStore, extension: str, kind: str) -> None:
    with pytest.raises(UnsupportedFileTypeError) as caught:
        files.upload(TEXT_LIKE[kind], filename=f"invoice.{extension}")
    assert caught.value.reason == "type_mismatch"
    assert nothing_stored(files)


@pytest.mark.parametrize("extension", OTHER_BINARY)
def test_text_under_other_binary_names_is_refused(
    permissive_files: FileStore, extension: str
) -> None:
    for content in TEXT_LIKE.values():
        with pytest.raises(UnsupportedFileTypeError) as caught:
            permissive_files.upload(content, filename=f"fake.{extension}")
        assert caught.value.reason == "type_mismatch", extension
    assert nothing_stored(permissive_files)


def test_the_brief_example_is_refused_while_real_content_passes(files: FileStore) -> None:
    with pytest.raises(UnsupportedFileTypeError) as caught:
        files.upload(b"fake pdf content", filename="test.pdf", content_type="application/pdf")
    assert caught.value.reason == "type_mismatch"
    real = {
        "report.pdf": (samples.pdf(), "application/pdf"),
        "logo.png": (samples.png(), "image/png"),
        "photo.jpg": (samples.jpeg(), "image/jpeg"),
        "anim.gif": (samples.gif(), "image/gif"),
        "bundle.zip": (samples.zip_archive(), "application/zip"),
    }
    for name, (content, expected) in real.items():
        assert files.upload(content, filename=name).content_type == expected, name


def test_text_formats_without_a_signature_stay_accepted(files: FileStore) -> None:
    text = samples.text(500)
    assert files.upload(text, filename="notes.txt").content_type == "text/plain"
    assert files.upload(text, filename="table.csv").content_type == "text/csv"
    assert files.upload(text, filename="readme.md").content_type == "text/markdown"
    assert files.upload(text, filename="data.json").content_type == "text/plain"
    # a claim is not a name: browsers on Windows claim application/vnd.ms-excel for .csv
    claimed = files.upload(text, filename="export.csv", content_type="application/vnd.ms-excel")
    assert claimed.content_type == "text/csv"
    pdf_claim = files.upload(text, filename="notes.txt", content_type="application/pdf")
    assert pdf_claim.content_type == "text/plain"


def test_a_direct_upload_of_text_named_pdf_fails_verification(
    any_store: LocalStore | S3Store,
) -> None:
    files = FileStore(any_store, policy=UploadPolicy())
    key = "direct/invoice.pdf"
    writer = any_store.open_writer(key, PutOptions(content_type="application/pdf"))
    writer.write(samples.text(300))
    writer.commit()
    try:
        with pytest.raises(UnsupportedFileTypeError) as caught:
            files.verify_object(
                key, filename="invoice.pdf", claimed_type="application/pdf", max_size=1024
            )
        assert caught.value.reason == "type_mismatch"
    finally:
        files.delete(key)


def test_text_and_html_get_the_same_answer_for_every_signature_format() -> None:
    extensions = ALLOWED_BINARY + OTHER_BINARY
    for extension in extensions:
        expected = expected_type_for_extension(extension)
        assert expected in SIGNATURE_FORMATS, (extension, expected)
        for sniffed in ("text/plain", "text/html"):
            with pytest.raises(UnsupportedFileTypeError) as caught:
                resolve_content_type(sniffed, extension)
            assert caught.value.reason == "type_mismatch", (extension, sniffed)
