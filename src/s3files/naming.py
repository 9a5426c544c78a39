"""Object keys from untrusted filenames: sanitising, naming policies and folder templates.

The S3 key never comes from the raw filename. ``sanitize_filename`` reduces any name to one
safe path segment, and ``build_key`` joins it with a folder and a date template under a
naming strategy::

    >>> policy = NamingPolicy(strategy="uuid", preserve_filename=False, folder_structure="uploads")
    >>> build_key("photo.JPG", policy=policy, uuid_value=UUID(int=1))
    'uploads/00000000-0000-0000-0000-000000000001.jpg'
"""

from __future__ import annotations

import string
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from s3files._errors import ConfigurationError, InvalidFilenameError, InvalidKeyError

__all__ = [
    "FOLDER_PLACEHOLDERS",
    "NamingPolicy",
    "NamingStrategy",
    "UploadName",
    "build_key",
    "display_name",
    "file_extension",
    "folder_path",
    "name_upload",
    "owner_prefix",
    "render_folder_template",
    "sanitize_filename",
    "sanitize_folder",
    "validate_key",
]

NamingStrategy = Literal["uuid", "timestamp", "original"]
FOLDER_PLACEHOLDERS = frozenset({"year", "month", "day", "hour"})

MAX_FILENAME_BYTES = 200
MAX_DISPLAY_NAME_BYTES = 255
MAX_FOLDER_DEPTH = 16
MAX_FOLDER_BYTES = 512
MAX_KEY_BYTES = 1024
_MAX_EXTENSION_LENGTH = 16
# Characters kept besides letters, digits and spaces; everything else becomes "_".
_SAFE_PUNCTUATION = frozenset("-_.()+,=@~[]")
# Unicode categories dropped outright: controls, format (bidi overrides, zero-width),
# surrogates, private use, unassigned.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)


def _clean_segment(text: str) -> str:
    """Reduce text to characters that are safe in one key segment; may return ''."""
    text = unicodedata.normalize("NFKC", text)
    kept: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category in _DROPPED_CATEGORIES:
            continue
        if char.isalnum() or char in _SAFE_PUNCTUATION:
            kept.append(char)
        elif char.isspace():
            kept.append(" ")
        else:
            kept.append("_")
    cleaned = " ".join("".join(kept).split())
    return cleaned.strip(" .")


def _names_a_device(segment: str) -> bool:
    """True for names that Windows maps to a device: ``con``, ``CON.txt``, ``con .tar.gz``.

    Windows ignores spaces before the first dot, so the check runs on the final, trimmed
    segment (a check before trimming let ``con .txt`` become ``con.txt``)."""
    return segment.split(".", 1)[0].rstrip(" ").lower() in _WINDOWS_RESERVED


def _truncate_utf8(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


def file_extension(filename: str) -> str:
    """The lower-case extension without the dot ('' when there is none or it looks bogus)."""
    stem, dot, ext = filename.rpartition(".")
    if not dot or not stem or not ext or len(ext) > _MAX_EXTENSION_LENGTH:
        return ""
    if not ext.isascii() or not ext.isalnum():
        return ""
    return ext.lower()


def sanitize_filename(filename: str, *, max_bytes: int = MAX_FILENAME_BYTES) -> str:
    """One safe path segment from an untrusted filename.

    Keeps only the last path component (``/`` and ``\\`` both count), normalises Unicode
    (NFKC), drops control, bidi and zero-width characters, replaces other punctuation with
    ``_``, strips leading and trailing dots and spaces, and limits the length to
    ``max_bytes`` of UTF-8 while keeping the extension.

    >>> sanitize_filename("../../etc/pass\\u202ewd.txt")
    'passwd.txt'
    """
    if not isinstance(filename, str):
        raise InvalidFilenameError("filename must be a string", reason="invalid_filename")
    last = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _clean_segment(last)
    if not cleaned or set(cleaned) <= {"_", ".", " "}:
        raise InvalidFilenameError(
            f"filename {filename[:80]!r} has no usable characters after sanitising",
            reason="invalid_filename",
        )
    ext = file_extension(cleaned)
    suffix = cleaned[-len(ext) - 1 :] if ext else ""
    stem = cleaned[: len(cleaned) - len(suffix)] if suffix else cleaned
    budget = max_bytes - len(suffix.encode("utf-8"))
    stem = _truncate_utf8(stem, budget).rstrip(" .") or "_"
    if _names_a_device(f"{stem}{suffix}"):
        stem = "_" + _truncate_utf8(stem, budget - 1).rstrip(" .")
    return f"{stem}{suffix}"


_ZERO_WIDTH_JOINER = "\u200d"


def _keeps_joiner(text: str, index: int) -> bool:
    """A zero-width joiner between two symbols builds one emoji (👨\u200d👩): kept."""
    if index == 0 or index + 1 >= len(text):
        return False
    return unicodedata.category(text[index - 1]) == "So" and unicodedata.category(
        text[index + 1]
    ) in {"So", "Mn"}


def display_name(filename: str, *, max_bytes: int = MAX_DISPLAY_NAME_BYTES) -> str:
    """The name a user sees, kept as they gave it, minus what can deceive or break.

    Unicode is normalised to NFC (``cafe\u0301`` and ``café`` are one name); control,
    bidi, zero-width and other invisible format characters are dropped (a joiner inside
    an emoji sequence stays); ``/`` and ``\\`` become ``_`` (a name is never a path);
    spaces around it are trimmed and the length is capped at ``max_bytes`` of UTF-8, the
    extension kept. Emoji, accents and inner spaces survive; only the object key uses
    the conservative ``sanitize_filename`` form.

    >>> display_name("🎉 party — plan.txt")
    '🎉 party — plan.txt'
    >>> display_name("report\u202egnp.exe")
    'reportgnp.exe'
    """
    if not isinstance(filename, str):
        raise InvalidFilenameError("filename must be a string", reason="invalid_filename")
    text = unicodedata.normalize("NFC", filename)
    kept: list[str] = []
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        if char == _ZERO_WIDTH_JOINER and _keeps_joiner(text, index):
            kept.append(char)
        elif category in _DROPPED_CATEGORIES:
            continue
        elif char in "/\\":
            kept.append("_")
        elif char.isspace():
            kept.append(" ")
        else:
            kept.append(char)
    cleaned = "".join(kept).strip()
    if not cleaned or cleaned in {".", ".."}:
        raise InvalidFilenameError(
            f"filename {filename[:80]!r} has no usable characters", reason="invalid_filename"
        )
    ext = file_extension(cleaned)
    suffix = cleaned[-len(ext) - 1 :] if ext else ""
    stem = cleaned[: len(cleaned) - len(suffix)] if suffix else cleaned
    stem = _truncate_utf8(stem, max_bytes - len(suffix.encode("utf-8"))).rstrip() or "_"
    return f"{stem}{suffix}"


def owner_prefix(template: str, owner: str | None) -> str:
    """The key prefix of one owner from a template such as ``users/{owner}`` ('' for
    none); the owner's name is cleaned like a folder segment.

    >>> owner_prefix("users/{owner}", "alice@example.com")
    'users/alice@example.com'
    """
    if not template:
        return ""
    if "{owner}" in template and not owner:
        raise ConfigurationError(f"key prefix {template!r} needs the owner of the upload")
    owner = owner or ""
    segment = sanitize_folder(owner.replace("/", "_").replace("\\", "_")) or "_"
    return sanitize_folder(template.replace("{owner}", segment))


def _folder_segments(folder: str | None) -> list[str] | None:
    """The raw segments of a folder path ('/' and '\\' both separate), None for the top
    level; ``.`` and ``..`` refused."""
    if not folder:
        return None
    if not isinstance(folder, str):
        raise InvalidKeyError("folder must be a string", reason="invalid_folder")
    segments = folder.replace("\\", "/").split("/")
    for raw in segments:
        stripped = raw.strip()
        if stripped in {".", ".."}:
            raise InvalidKeyError(
                f"folder {folder[:80]!r} contains a '{stripped}' segment", reason="invalid_folder"
            )
    return segments


def _checked_folder(segments: list[str]) -> str:
    """``segments`` joined, within the limits of depth and length."""
    if len(segments) > MAX_FOLDER_DEPTH:
        raise InvalidKeyError(
            f"folder is nested deeper than {MAX_FOLDER_DEPTH} levels", reason="invalid_folder"
        )
    joined = "/".join(segments)
    if len(joined.encode("utf-8")) > MAX_FOLDER_BYTES:
        raise InvalidKeyError(
            f"folder is longer than {MAX_FOLDER_BYTES} bytes", reason="invalid_folder"
        )
    return joined


def _visible_segment(raw: str) -> str:
    """One folder name as people see it: NFC, invisible and control characters dropped
    (a joiner inside an emoji sequence stays), any space a plain space, trimmed."""
    text = unicodedata.normalize("NFC", raw)
    kept: list[str] = []
    for index, char in enumerate(text):
        if char == _ZERO_WIDTH_JOINER and _keeps_joiner(text, index):
            kept.append(char)
        elif unicodedata.category(char) in _DROPPED_CATEGORIES:
            continue
        else:
            kept.append(" " if char.isspace() else char)
    cleaned = _truncate_utf8("".join(kept).strip(), MAX_FILENAME_BYTES).rstrip()
    return "" if set(cleaned) <= {"."} else cleaned


def folder_path(folder: str | None) -> str:
    """The folder path people see ('Holiday 🌴/2026', no leading or trailing slash) from
    untrusted input: what a file's record holds, listings and zips show.

    Names are kept as given, like ``display_name``: Unicode NFC; control, bidi, zero-width
    and other invisible characters dropped; spaces around each name trimmed. ``/`` and
    ``\\`` separate names; empty names (``a//b``, a leading ``/``) are dropped; ``.`` and
    ``..`` are refused, since they always mean a mistake or an attack. An object key uses
    the conservative ``sanitize_folder`` form of it. A path already in that form (every
    folder stored before names were kept) is its own folder path.

    >>> folder_path("/Holiday 🌴/תמונות\u200f/")
    'Holiday 🌴/תמונות'
    """
    segments = _folder_segments(folder)
    if segments is None:
        return ""
    return _checked_folder([name for name in map(_visible_segment, segments) if name])


def sanitize_folder(folder: str | None) -> str:
    """A safe folder path for object keys ('a/b/c', no leading or trailing slash) from
    untrusted input or from a ``folder_path``.

    Each segment is cleaned like a filename (``sanitize_filename``: 'Holiday 🌴' is
    'Holiday _'); empty segments are dropped; ``.`` and ``..`` are refused rather than
    silently resolved, since they always mean a mistake or an attack.
    """
    raw_segments = _folder_segments(folder)
    if raw_segments is None:
        return ""
    segments = []
    for raw in raw_segments:
        cleaned = _truncate_utf8(_clean_segment(raw), MAX_FILENAME_BYTES).rstrip(" .")
        if cleaned:
            segments.append(f"_{cleaned}" if _names_a_device(cleaned) else cleaned)
    return _checked_folder(segments)


def validate_key(key: str) -> str:
    """Check a caller-supplied object key; return it unchanged or raise ``InvalidKeyError``.

    Keys are relative, '/'-separated, at most 1024 bytes, without empty, '.' or '..'
    segments and without control characters, so that every store (including the local disk)
    maps them to a place inside its root.
    """
    if not isinstance(key, str) or not key:
        raise InvalidKeyError("key must be a non-empty string", reason="invalid_key")
    if len(key.encode("utf-8", errors="surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidKeyError(f"key is longer than {MAX_KEY_BYTES} bytes", reason="invalid_key")
    if key.startswith("/") or key.endswith("/"):
        raise InvalidKeyError("key must not start or end with '/'", key=key, reason="invalid_key")
    # printable ASCII has no control character (the common case, checked in C)
    if not (key.isascii() and key.isprintable()):
        for char in key:
            if unicodedata.category(char) in {"Cc", "Cs"}:
                raise InvalidKeyError(
                    "key contains a control character", key=repr(key), reason="invalid_key"
                )
    for segment in key.split("/"):
        if segment in {"", ".", ".."}:
            raise InvalidKeyError(
                f"key contains an empty, '.' or '..' segment: {key[:200]!r}", reason="invalid_key"
            )
    return key


def validate_folder_template(template: str) -> str:
    """Refuse folder templates with placeholders other than {year} {month} {day} {hour}."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ConfigurationError(f"S3_FOLDER_STRUCTURE: {exc}") from exc
    unknown = fields - FOLDER_PLACEHOLDERS
    if unknown:
        raise ConfigurationError(
            f"S3_FOLDER_STRUCTURE: unknown placeholder(s) {sorted(unknown)}; "
            f"use {{year}}, {{month}}, {{day}} or {{hour}}"
        )
    return template


def render_folder_template(template: str, now: datetime) -> str:
    """'{year}/{month}/{day}' → '2025/01/15' (zero-padded, UTC unless ``now`` says otherwise)."""
    if not template:
        return ""
    validate_folder_template(template)
    rendered = template.format(
        year=f"{now.year:04d}",
        month=f"{now.month:02d}",
        day=f"{now.day:02d}",
        hour=f"{now.hour:02d}",
    )
    return sanitize_folder(rendered)


@dataclass(frozen=True, slots=True)
class NamingPolicy:
    """How ``build_key`` names a stored file.

    strategy
        ``uuid``: ``<uuid4>_<name>`` (or ``<uuid4><.ext>`` without ``preserve_filename``);
        ``timestamp``: ``<YYYYmmdd_HHMMSS>_<name>``; ``original``: the sanitised name alone
        (no uniqueness: an upload may replace an earlier one).
    preserve_filename
        Keep the sanitised original name in the key.
    folder_structure
        A template such as ``{year}/{month}/{day}``; '' for none.
    """

    strategy: NamingStrategy = "uuid"
    preserve_filename: bool = True
    folder_structure: str = "{year}/{month}/{day}"

    def __post_init__(self) -> None:
        if self.strategy not in ("uuid", "timestamp", "original"):
            raise ConfigurationError(
                f"S3_NAMING_STRATEGY: {self.strategy!r} is not one of uuid, timestamp, original"
            )
        validate_folder_template(self.folder_structure)


def build_key(
    filename: str,
    *,
    policy: NamingPolicy,
    folder: str | None = None,
    now: datetime | None = None,
    uuid_value: UUID | None = None,
) -> str:
    """The object key for an upload: ``<folder>/<rendered template>/<name>``."""
    safe_name = sanitize_filename(filename)
    ext = file_extension(safe_name)
    moment = now or datetime.now(UTC)
    if policy.strategy == "uuid":
        unique = str(uuid_value or uuid.uuid4())
        name = (
            f"{unique}_{safe_name}"
            if policy.preserve_filename
            else unique + (f".{ext}" if ext else "")
        )
    elif policy.strategy == "timestamp":
        stamp = moment.strftime("%Y%m%d_%H%M%S")
        name = (
            f"{stamp}_{safe_name}"
            if policy.preserve_filename
            else stamp + (f".{ext}" if ext else "")
        )
    else:
        name = safe_name
    parts = [
        sanitize_folder(folder),
        render_folder_template(policy.folder_structure, moment),
        name,
    ]
    return validate_key("/".join(part for part in parts if part))


@dataclass(frozen=True, slots=True)
class UploadName:
    """What a new upload is called: the name people see and the key it is stored under.

    ``safe_name`` is the conservative form of the name used in the key (check the
    extension on it)."""

    display_name: str
    safe_name: str
    key: str


def name_upload(
    filename: str,
    *,
    policy: NamingPolicy,
    folder: str | None = None,
    key_prefix: str = "",
    owner: str | None = None,
    now: datetime | None = None,
    uuid_value: UUID | None = None,
) -> UploadName:
    """The display name and the key of a new upload, the one rule for every way in
    (a library upload, the service's uploads and streams, direct POST and multipart
    uploads, the Django app).

    The display name is ``display_name(filename)``; the key is
    ``[key_prefix/]{folder}/{policy.folder_structure}/<name by the naming policy>``, built
    from the display name's conservative form. ``key_prefix`` may hold ``{owner}``
    (``users/{owner}``), filled with ``owner``.

    >>> policy = NamingPolicy(strategy="original", folder_structure="")
    >>> named = name_upload("🎉 plan.txt", policy=policy, folder="docs", key_prefix="u/{owner}",
    ...                     owner="alice")
    >>> (named.display_name, named.key)
    ('🎉 plan.txt', 'u/alice/docs/_ plan.txt')
    """
    name = display_name(filename)
    try:
        safe_name = sanitize_filename(name)
    except InvalidFilenameError:
        if not name.strip(" ._"):
            raise
        # a name the key cannot keep a letter of ('÷', '🎉'): the display name keeps it all
        safe_name = "file"
    prefix = owner_prefix(key_prefix, owner)
    where = "/".join(part for part in (prefix, sanitize_folder(folder)) if part)
    key = build_key(safe_name, policy=policy, folder=where, now=now, uuid_value=uuid_value)
    return UploadName(display_name=name, safe_name=safe_name, key=key)
