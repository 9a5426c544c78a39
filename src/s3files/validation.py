"""Validation of uploads while they stream: size counted on the bytes, extension allowlist,
MIME type sniffed from the first bytes (libmagic) and SHA-256 computed on the way.

``UploadValidator`` never holds more than ``SNIFF_BYTES`` of the content::

    validator = UploadValidator(policy, filename="report.pdf")
    for chunk in chunks:
        validator.feed(chunk)          # raises FileTooLargeError past the limit
    result = validator.finish()        # raises UnsupportedFileTypeError, EmptyFileError ...
    result.content_type, result.size, result.sha256
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from typing import Any

from s3files._errors import (
    ChecksumMismatchError,
    EmptyFileError,
    FileTooLargeError,
    UnsupportedFileTypeError,
)
from s3files.naming import file_extension

__all__ = [
    "DEFAULT_ALLOWED_EXTENSIONS",
    "DEFAULT_ALLOWED_MIME_TYPES",
    "SIGNATURE_FORMATS",
    "SNIFF_BYTES",
    "UploadPolicy",
    "UploadValidator",
    "ValidatedContent",
    "canonical_type",
    "resolve_content_type",
    "same_type",
    "sniff_mime_type",
]

SNIFF_BYTES = 64 * 1024

# Images, PDF, Word and Excel documents, plain text, CSV, Markdown, JSON and ZIP. Active
# content (HTML, SVG, JS) is not on the list: a stored file must never run in a browser as
# the service's origin.
DEFAULT_ALLOWED_EXTENSIONS = frozenset(
    [
        "jpg",
        "jpeg",
        "png",
        "gif",
        "webp",
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "txt",
        "csv",
        "md",
        "json",
        "zip",
    ]
)
DEFAULT_ALLOWED_MIME_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "text/plain",
        "text/csv",
        "text/markdown",
        "application/json",
        "application/zip",
    }
)

# Generic answers of libmagic that a known extension may make more precise.
_CONTAINER_REFINEMENTS: dict[str, frozenset[str]] = {
    "application/zip": frozenset(
        {
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        }
    ),
    "application/cdfv2": frozenset(
        {"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"}
    ),
    "application/x-ole-storage": frozenset(
        {"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"}
    ),
    "text/plain": frozenset({"application/json"}),
}
# Names of one type under another name: what libmagic, Python's table, /etc/mime.types or a
# browser say may differ (text/xml and application/xml are both registered for XML, RFC
# 7303). Each alias maps to the name s3files stores; a type not listed is its own name.
_ALIASES: dict[str, str] = {
    "text/xml": "application/xml",
    "text/x-script.python": "text/x-python",
    "text/x-python3": "text/x-python",
    "application/x-python": "text/x-python",
    "text/x-shellscript": "text/x-sh",
    "application/x-sh": "text/x-sh",
    "application/x-shellscript": "text/x-sh",
    "application/javascript": "text/javascript",
    "application/x-javascript": "text/javascript",
    "application/x-zip-compressed": "application/zip",
    "application/x-zip": "application/zip",
    "application/x-gzip": "application/gzip",
    "application/x-rar-compressed": "application/vnd.rar",
    "application/x-rar": "application/vnd.rar",
    "application/x-sqlite3": "application/vnd.sqlite3",
    "application/x-pdf": "application/pdf",
    "application/x-msdos-program": "application/x-msdownload",
    "application/x-dosexec": "application/x-msdownload",
    "application/font-woff": "font/woff",
    "image/x-icon": "image/vnd.microsoft.icon",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-flac": "audio/flac",
    "audio/mp3": "audio/mpeg",
}


def canonical_type(content_type: str) -> str:
    """The one name s3files uses for a MIME type (parameters and case dropped, aliases
    resolved): ``text/xml`` is ``application/xml``, ``application/x-zip-compressed`` is
    ``application/zip``."""
    bare = content_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(bare, bare)


def same_type(first: str, second: str) -> bool:
    """Whether two MIME type names mean the same type (see ``canonical_type``)."""
    return canonical_type(first) == canonical_type(second)


# Types that Python's built-in table lacks (it reads the rest from /etc/mime.types, which a
# minimal system may not have): the answer must not depend on the machine.
_EXTRA_TYPES = {
    "md": "text/markdown",
    "csv": "text/csv",
    "webp": "image/webp",
    "json": "application/json",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "7z": "application/x-7z-compressed",
    "rar": "application/vnd.rar",
    "gz": "application/gzip",
    "m4a": "audio/mp4",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "mkv": "video/x-matroska",
    "woff": "font/woff",
    "woff2": "font/woff2",
}
_MEDIA_FAMILIES = ("image/", "audio/", "video/")

# Binary formats whose files begin with a signature (a magic number) that libmagic reads
# from the first bytes. A file *named* as one of these must carry it: plain text named
# invoice.pdf is a mismatch like HTML named .png, not an inert text file. (A *claimed*
# type is not held to this: browsers on Windows claim application/vnd.ms-excel for .csv.)
SIGNATURE_FORMATS = frozenset(
    {
        # images
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/bmp",
        "image/tiff",
        "image/heic",
        "image/heif",
        "image/avif",
        "image/x-icon",
        "image/vnd.microsoft.icon",
        "image/vnd.adobe.photoshop",
        # documents: PDF, OOXML and OpenDocument (zip), old Office (OLE compound file)
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "application/epub+zip",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        # archives and compressed streams
        "application/zip",
        "application/x-zip-compressed",
        "application/java-archive",
        "application/vnd.android.package-archive",
        "application/gzip",
        "application/x-gzip",
        "application/x-bzip2",
        "application/x-xz",
        "application/x-7z-compressed",
        "application/vnd.rar",
        "application/x-rar-compressed",
        # programs, databases, fonts
        "application/x-msdownload",
        "application/x-msdos-program",
        "application/x-dosexec",
        "application/x-msi",
        "application/x-executable",
        "application/wasm",
        "application/java-vm",
        "application/vnd.sqlite3",
        "application/x-sqlite3",
        "font/woff",
        "font/woff2",
        "font/otf",
        "font/ttf",
        # audio and video
        "video/mp4",
        "audio/mp4",
        "video/quicktime",
        "video/webm",
        "audio/webm",
        "video/x-matroska",
        "video/x-msvideo",
        "video/ogg",
        "audio/ogg",
        "audio/mpeg",
        "audio/flac",
        "audio/x-flac",
        "audio/wav",
        "audio/x-wav",
        "audio/vnd.wave",
        "video/3gpp",
    }
)


def expected_type_for_extension(extension: str) -> str | None:
    """The MIME type an extension promises, or None when unknown."""
    if not extension:
        return None
    if extension in _EXTRA_TYPES:
        return _EXTRA_TYPES[extension]
    guessed, _ = mimetypes.guess_type(f"file.{extension}", strict=False)
    return guessed


# Signatures that settle the type at once; everything else goes to libmagic.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
# Containers whose kind libmagic reads from deeper inside (zip: OOXML; CDF: old Office).
_CONTAINERS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
_TEXT_WINDOW = 8 * 1024  # libmagic's text checks scan every byte they get
_local = threading.local()


def _magic() -> Any:
    """One libmagic handle per thread: python-magic serialises calls on a shared one."""
    handle = getattr(_local, "magic", None)
    if handle is None:
        import magic  # imported lazily: libmagic is loaded only when content is sniffed

        handle = _local.magic = magic.Magic(mime=True)
    return handle


def sniff_mime_type(head: bytes) -> str:
    """The MIME type of a file from its first bytes: well-known signatures directly,
    the rest by libmagic."""
    for signature, mime in _SIGNATURES:
        if head.startswith(signature):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    window = head if head.startswith(_CONTAINERS) else head[:_TEXT_WINDOW]
    detected: str = _magic().from_buffer(window)
    return detected.lower() if detected else "application/octet-stream"


_CONTROL = bytes(set(range(32)) - {9, 10, 12, 13}) + b"\x7f"


def looks_like_text(head: bytes) -> bool:
    """UTF-8 without NUL or other control characters (the last character may be cut)."""
    if not head or any(byte in head for byte in _CONTROL):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True


def resolve_content_type(sniffed: str, extension: str, claimed: str | None = None) -> str:
    """Reconcile the sniffed type with what the extension and the client claim.

    The sniffed type wins, except that an extension may refine a generic answer (text/plain
    named .csv is text/csv; a zip named .docx is a Word document; XML named .rss is
    application/x-rss+xml). Two names of one type agree (text/xml and application/xml,
    application/x-zip-compressed and application/zip: see ``canonical_type``), and the
    answer is given by its canonical name. Plain text claimed as something else, or named
    with an extension of a format without a signature (.json, .xml), stays text/plain (it
    cannot do harm as text). Any other contradiction between content and name or claim (a
    PDF named .jpg, an executable named .txt, text or HTML named .pdf or .png: see
    ``SIGNATURE_FORMATS``) raises ``UnsupportedFileTypeError`` with reason
    ``type_mismatch``.
    """
    content_type = canonical_type(sniffed)
    sniffed = content_type
    expected = expected_type_for_extension(extension)
    for promise, source in ((expected, f"extension .{extension}"), (claimed, "claimed type")):
        if not promise:
            continue
        promise = canonical_type(promise)
        if promise in (content_type, "application/octet-stream"):
            continue
        plain_text = content_type == "text/plain" or (
            sniffed == "text/plain" and content_type.startswith("text/")  # refined: .csv, .md
        )
        from_name = source != "claimed type"
        held_to_signature = from_name and promise in SIGNATURE_FORMATS
        if plain_text and not promise.startswith("text/") and not held_to_signature:
            continue  # plain text is inert: stored and served as text, never as claimed
        if content_type.startswith("text/") and promise.startswith("text/"):
            content_type = promise if from_name else content_type
            continue
        if promise in _CONTAINER_REFINEMENTS.get(content_type, frozenset()):
            content_type = promise
            continue
        if content_type == "application/xml" and promise.endswith("+xml"):
            content_type = promise if from_name else content_type  # XML named .rss, .atom
            continue
        if any(content_type.startswith(f) and promise.startswith(f) for f in _MEDIA_FAMILIES):
            continue
        raise UnsupportedFileTypeError(
            f"content is {content_type}, which does not match the {source} ({promise})",
            reason="type_mismatch",
        )
    return content_type


@dataclass(frozen=True, slots=True)
class UploadPolicy:
    """Limits applied to every upload. ``None`` allowlists accept anything."""

    max_size: int | None = 100 * 1024 * 1024
    allowed_extensions: frozenset[str] | None = DEFAULT_ALLOWED_EXTENSIONS
    allowed_mime_types: frozenset[str] | None = DEFAULT_ALLOWED_MIME_TYPES

    @classmethod
    def permissive(cls, max_size: int | None = None) -> UploadPolicy:
        """No type restrictions; an optional size limit."""
        return cls(max_size=max_size, allowed_extensions=None, allowed_mime_types=None)

    def check_extension(self, filename: str) -> str:
        """Return the file's extension, or raise if it is not on the allowlist."""
        ext = file_extension(filename)
        if self.allowed_extensions is not None and ext not in self.allowed_extensions:
            shown = f".{ext}" if ext else "no extension"
            raise UnsupportedFileTypeError(
                f"file type {shown} is not allowed; allowed: "
                + ", ".join(sorted(self.allowed_extensions)),
                reason="extension_not_allowed",
            )
        return ext

    def check_mime_type(self, content_type: str) -> None:
        """Raise unless the type (under any of its names) is on the allowlist."""
        if self.allowed_mime_types is None or content_type in self.allowed_mime_types:
            return
        wanted = canonical_type(content_type)
        if not any(canonical_type(allowed) == wanted for allowed in self.allowed_mime_types):
            raise UnsupportedFileTypeError(
                f"content type {content_type} is not allowed", reason="mime_type_not_allowed"
            )

    def check_size(self, size: int) -> None:
        if self.max_size is not None and size > self.max_size:
            raise FileTooLargeError(
                f"file is larger than the limit of {self.max_size} bytes",
                limit=self.max_size,
                reason="file_too_large",
            )


@dataclass(frozen=True, slots=True)
class ValidatedContent:
    """What validation learned about the content."""

    size: int
    sha256: str
    content_type: str


class UploadValidator:
    """Counts, hashes and sniffs an upload chunk by chunk; raises as soon as it must."""

    def __init__(
        self,
        policy: UploadPolicy,
        *,
        filename: str,
        claimed_type: str | None = None,
        expected_sha256: str | None = None,
    ) -> None:
        self._policy = policy
        self._extension = policy.check_extension(filename)
        self._claimed = claimed_type
        self._expected_sha256 = expected_sha256.lower() if expected_sha256 else None
        self._hash = hashlib.sha256()
        self._head = bytearray()
        self.size = 0
        self.content_type: str | None = None

    @property
    def sniffed(self) -> bool:
        """True once the content type is known (enough bytes seen, or finished)."""
        return self.content_type is not None

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._policy.check_size(self.size)
        self._hash.update(chunk)
        if self.content_type is None:
            self._head += chunk[: SNIFF_BYTES - len(self._head)]
            if len(self._head) >= SNIFF_BYTES:
                self._decide_type()

    def _decide_type(self) -> None:
        head = bytes(self._head)
        expected = expected_type_for_extension(self._extension) or ""
        # A text file named as one needs no libmagic: any text/* answer would be refined to
        # the extension's type anyway (and the result is never served as active content).
        text = expected.startswith("text/") and looks_like_text(head)
        sniffed = "text/plain" if text else sniff_mime_type(head)
        content_type = resolve_content_type(sniffed, self._extension, self._claimed)
        self._policy.check_mime_type(content_type)
        self.content_type = content_type
        self._head = bytearray()

    def finish(self) -> ValidatedContent:
        """Final checks once every byte was fed."""
        if self.size == 0:
            raise EmptyFileError("file is empty", reason="empty_file")
        if self.content_type is None:
            self._decide_type()
        digest = self._hash.hexdigest()
        if self._expected_sha256 is not None and digest != self._expected_sha256:
            raise ChecksumMismatchError(
                f"content SHA-256 is {digest}, expected {self._expected_sha256}",
                reason="checksum_mismatch",
            )
        assert self.content_type is not None
        return ValidatedContent(size=self.size, sha256=digest, content_type=self.content_type)
