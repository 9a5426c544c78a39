"""Direct-to-store uploads in the core: plan an upload, sign it, and verify or reject what a
client uploaded before anything trusts it. The service and the Django app only persist
what these return.

    plan = files.plan_direct_upload("photo.png", "image/png", max_size=5 * 1024 * 1024)
    post = files.sign_direct_upload(plan)       # the form writes to plan.staging_key
    # ... record the plan as pending; the browser POSTs post.fields + the file to post.url ...
    outcome = files.verify_or_reject(plan.key, filename=plan.filename,
                                     claimed_type=plan.content_type, max_size=plan.max_size,
                                     staging_key=plan.staging_key)
    if isinstance(outcome, Rejection):          # the objects are already deleted
        ...  # record UploadStatus.REJECTED with outcome.reason, then raise outcome.error

A signed form targets a staging key (``.uploads/<upload id>``), never the file's key:
verification copies the staged object to the final key on the store's side and deletes the
staged one, so replaying the form after completion cannot change a file's bytes. Multipart
parts go to the final key; their URLs are bound to an upload id that completion closes.

These are mixed into ``FileStore``; ``AsyncFileStore`` has the awaited twins.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from s3files._errors import (
    ChecksumMismatchError,
    EmptyFileError,
    FileTooLargeError,
    InvalidInputError,
    ObjectNotFoundError,
    StoreError,
)
from s3files._models import MultipartUploadInfo, PresignedPost, PresignedURL, PutOptions, UploadPart
from s3files.naming import NamingPolicy, name_upload, sanitize_filename, validate_key
from s3files.stores.base import Store
from s3files.stores.direct_uploads import MAX_PARTS, MIN_PART_SIZE, DirectUploadStore
from s3files.validation import (
    SNIFF_BYTES,
    UploadPolicy,
    resolve_content_type,
    sniff_mime_type,
)

__all__ = [
    "STAGING_PREFIX",
    "DirectUploadPlan",
    "DirectUploads",
    "PartPlan",
    "Rejection",
    "UploadStatus",
    "VerifiedObject",
    "is_staging_key",
    "plan_parts",
    "staging_key_for",
]

MAX_PART_BATCH = 100
FORM_EXPIRY_CAP = 3600  # a signed form is short-lived: at most an hour
MULTIPART_LIFETIME = timedelta(hours=24)
STAGING_PREFIX: Final = ".uploads/"  # sanitised folders never start with a dot


class UploadStatus:
    """The states of a direct upload, the same words in the service and the Django app.

    ``pending`` until completed (``complete``), refused at completion (``rejected``),
    cancelled by its owner or client (``aborted``) or left to time out (``expired``).
    """

    PENDING: Final = "pending"
    COMPLETE: Final = "complete"
    REJECTED: Final = "rejected"
    ABORTED: Final = "aborted"
    EXPIRED: Final = "expired"
    ALL: Final = (PENDING, COMPLETE, REJECTED, ABORTED, EXPIRED)


def staging_key_for(upload_id: uuid.UUID) -> str:
    """Where the signed form of upload ``upload_id`` writes its bytes."""
    return f"{STAGING_PREFIX}{upload_id.hex}"


def is_staging_key(key: str) -> bool:
    return key.startswith(STAGING_PREFIX)


@dataclass(frozen=True, slots=True)
class VerifiedObject:
    """What verification learned about an uploaded object."""

    size: int
    content_type: str
    etag: str | None
    sha256: str | None  # None only from verify_object without a checksum asked for


@dataclass(frozen=True, slots=True)
class Rejection:
    """Verification refused the object (already deleted); persist ``reason``, then raise
    ``error``."""

    error: InvalidInputError

    @property
    def reason(self) -> str:
        """``code`` or ``code: reason``: stable words to store with the rejected upload."""
        exc = self.error
        return exc.code if exc.reason == exc.code else f"{exc.code}: {exc.reason}"

    @property
    def message(self) -> str:
        return self.error.message


@dataclass(frozen=True, slots=True)
class PartPlan:
    """How a multipart upload is cut: ``part_count`` parts of ``part_size`` bytes (the last
    one shorter)."""

    part_size: int
    part_count: int
    size: int


@dataclass(frozen=True, slots=True)
class DirectUploadPlan:
    """Everything decided before a direct upload is signed; persist it as the pending row.

    ``key`` is where the verified file will live; ``staging_key`` is where a signed form
    writes (None for a multipart upload, whose parts are bound to its upload id).
    """

    upload_id: uuid.UUID
    key: str
    staging_key: str | None
    filename: str  # the display name (``naming.display_name``)
    content_type: str  # the client's claim, normalised; verification sniffs the real one
    max_size: int
    expires_at: datetime
    parts: PartPlan | None = None

    @property
    def upload_key(self) -> str:
        """The key the client's bytes are sent to."""
        return self.staging_key or self.key


def plan_parts(size: int, *, part_size: int = 8 * 1024 * 1024) -> tuple[int, int]:
    """(part size, part count) for an object of ``size`` bytes within S3's limits."""
    if size < 1:
        raise InvalidInputError("size must be at least 1 byte", reason="invalid_size")
    part_size = max(part_size, MIN_PART_SIZE, -(-size // MAX_PARTS))
    return part_size, -(-size // part_size)


class _FilesBase(Protocol):
    @property
    def store(self) -> Store: ...

    @property
    def policy(self) -> UploadPolicy: ...

    @property
    def naming(self) -> NamingPolicy: ...

    @property
    def upload_url_expiry(self) -> int: ...


def _direct(store: Store) -> DirectUploadStore:
    if not isinstance(store, DirectUploadStore):
        raise StoreError(f"{store!r} does not support direct uploads")
    return store


def _limit(files: _FilesBase, requested: int | None) -> int:
    cap = files.policy.max_size
    if requested is not None and requested < 1:
        raise InvalidInputError("max_file_size must be at least 1 byte", reason="invalid_size")
    if cap is None:
        return requested or 5 * 1024**4
    return min(requested or cap, cap)


def _claimed_type(content_type: str | None) -> str:
    """The media type a client claims, without parameters; none means "don't know"."""
    if content_type is not None and (len(content_type) > 255 or "\n" in content_type):
        raise InvalidInputError("content type is malformed", reason="invalid_content_type")
    claimed = (content_type or "").split(";", 1)[0].strip().lower()
    return claimed or "application/octet-stream"


def _size_problem(
    size: int, max_size: int, expected_size: int | None, key: str
) -> InvalidInputError | None:
    if size == 0:
        return EmptyFileError("uploaded file is empty", reason="empty_file", key=key)
    if size > max_size:
        return FileTooLargeError(
            f"uploaded file is larger than {max_size} bytes",
            limit=max_size,
            reason="file_too_large",
            key=key,
        )
    if expected_size is not None and size > expected_size:
        return FileTooLargeError(
            f"uploaded file has {size} bytes, more than the {expected_size} declared",
            limit=expected_size,
            reason="larger_than_declared",
            key=key,
        )
    if expected_size is not None and size != expected_size:
        return InvalidInputError(
            f"uploaded file has {size} bytes, not the {expected_size} declared",
            reason="size_mismatch",
            key=key,
        )
    return None


def _verify(
    files: _FilesBase,
    key: str,
    *,
    filename: str,
    claimed_type: str | None,
    max_size: int,
    expected_size: int | None,
    expected_sha256: str | None,
    checksum: bool,
) -> VerifiedObject:
    store = files.store
    info = store.head(validate_key(key))
    problem = _size_problem(info.size, max_size, expected_size, key)
    if problem is not None:
        raise problem
    extension = files.policy.check_extension(sanitize_filename(filename))
    head = b"".join(store.iter_bytes(key, length=min(SNIFF_BYTES, info.size)))
    content_type = resolve_content_type(sniff_mime_type(head), extension, claimed_type)
    files.policy.check_mime_type(content_type)
    digest = None
    if checksum or expected_sha256:
        hasher = hashlib.sha256()
        counted = 0
        for chunk in store.iter_bytes(key):  # streaming: one chunk in memory at a time
            hasher.update(chunk)
            counted += len(chunk)
        if counted != info.size:
            raise StoreError(f"read {counted} bytes of {info.size}: object changed", key=key)
        digest = hasher.hexdigest()
        if expected_sha256 and digest != expected_sha256.lower():
            raise ChecksumMismatchError(
                f"uploaded file's SHA-256 is {digest}, expected {expected_sha256}",
                reason="checksum_mismatch",
                key=key,
            )
    return VerifiedObject(size=info.size, content_type=content_type, etag=info.etag, sha256=digest)


def _discard(
    files: _FilesBase, key: str, staging_key: str | None, multipart_id: str | None
) -> None:
    if multipart_id:
        _direct(files.store).abort_multipart(validate_key(key), multipart_id)
    if staging_key:
        files.store.delete(validate_key(staging_key))
    files.store.delete(validate_key(key))


class DirectUploads:
    """Direct-upload operations of ``FileStore``."""

    def limit_for(self: _FilesBase, requested: int | None) -> int:
        """The size limit of a direct upload: what the client asks, capped by the policy."""
        return _limit(self, requested)

    def plan_direct_upload(
        self: _FilesBase,
        filename: str,
        content_type: str | None,
        *,
        max_size: int | None = None,
        prefix: str | None = None,
        size: int | None = None,
        expires_in: int | None = None,
        key_prefix: str = "",
        owner: str | None = None,
    ) -> DirectUploadPlan:
        """Decide a direct upload before anything is signed (no I/O): the display name and
        the key as for every upload (``naming.name_upload``: the key in the folder
        ``prefix``, under ``key_prefix`` with ``{owner}`` filled in), its extension and the
        claimed type allowed, the size limit capped by the policy. With ``size`` it is a
        multipart upload of that many bytes (refused when over the limit); without, a form
        upload.

        ``expires_in`` defaults to the upload URL expiry (at most an hour) for a form and to
        24 hours for a multipart upload. Raises the typed error of the first rule broken.
        """
        named = name_upload(
            filename, policy=self.naming, folder=prefix, key_prefix=key_prefix, owner=owner
        )
        self.policy.check_extension(named.safe_name)
        claimed = _claimed_type(content_type)
        if claimed != "application/octet-stream":  # a browser's "don't know" is no claim
            self.policy.check_mime_type(claimed)
        limit = _limit(self, max_size)
        parts = None
        if size is not None:
            if size > limit:
                raise FileTooLargeError(
                    f"file is larger than the limit of {limit} bytes",
                    limit=limit,
                    reason="file_too_large",
                )
            part_size, part_count = plan_parts(size)
            parts = PartPlan(part_size=part_size, part_count=part_count, size=size)
        if expires_in is None:
            lifetime = (
                MULTIPART_LIFETIME
                if parts
                else timedelta(seconds=min(self.upload_url_expiry, FORM_EXPIRY_CAP))
            )
        elif expires_in < 1:
            raise InvalidInputError("expiry must be at least 1 second", reason="invalid_expiry")
        else:
            lifetime = timedelta(seconds=expires_in)
        upload_id = uuid.uuid4()
        return DirectUploadPlan(
            upload_id=upload_id,
            key=named.key,
            staging_key=None if parts else staging_key_for(upload_id),
            filename=named.display_name,
            content_type=claimed,
            max_size=limit,
            expires_at=datetime.now(UTC) + lifetime,
            parts=parts,
        )

    def sign_direct_upload(
        self: _FilesBase, plan: DirectUploadPlan, *, fields: Mapping[str, str] | None = None
    ) -> PresignedPost:
        """The form of a planned form upload: bound to its staging key, its claimed type,
        1..``max_size`` bytes, until the plan expires; ``fields`` are signed as exact
        matches."""
        if plan.staging_key is None:
            raise InvalidInputError(
                "a multipart upload is not signed as a form", reason="not_a_form_upload"
            )
        seconds = max(1, int((plan.expires_at - datetime.now(UTC)).total_seconds()))
        return _direct(self.store).presign_post(
            validate_key(plan.staging_key),
            content_type=plan.content_type,
            max_size=plan.max_size,
            expires_in=seconds,
            fields=fields,
        )

    def presign_post(
        self: _FilesBase,
        key: str,
        *,
        content_type: str,
        max_size: int,
        expires_in: int | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> PresignedPost:
        """A form upload bound to exactly ``key``, ``content_type`` and 1..``max_size``;
        ``fields`` (such as ``success_action_redirect``) are signed as exact matches.
        Direct uploads use ``sign_direct_upload``, which targets a staging key."""
        if not content_type or len(content_type) > 255 or "\n" in content_type:
            raise InvalidInputError("content type is malformed", reason="invalid_content_type")
        return _direct(self.store).presign_post(
            validate_key(key),
            content_type=content_type,
            max_size=max_size,
            expires_in=expires_in or min(self.upload_url_expiry, FORM_EXPIRY_CAP),
            fields=fields,
        )

    def start_multipart(
        self: _FilesBase, key: str, *, content_type: str, content_disposition: str | None = None
    ) -> str:
        options = PutOptions(content_type=content_type, content_disposition=content_disposition)
        return _direct(self.store).create_multipart(validate_key(key), options)

    def presign_parts(
        self: _FilesBase,
        key: str,
        upload_id: str,
        numbers: Iterable[int],
        *,
        expires_in: int | None = None,
    ) -> dict[int, PresignedURL]:
        """Part URLs, at most 100 per call."""
        wanted = sorted(set(numbers))
        if not wanted or len(wanted) > MAX_PART_BATCH or wanted[0] < 1 or wanted[-1] > MAX_PARTS:
            raise InvalidInputError(
                f"ask for 1 to {MAX_PART_BATCH} part numbers between 1 and {MAX_PARTS}",
                reason="invalid_part_numbers",
            )
        store = _direct(self.store)
        seconds = expires_in or min(self.upload_url_expiry, FORM_EXPIRY_CAP)
        return {n: store.presign_part(key, upload_id, n, expires_in=seconds) for n in wanted}

    def list_parts(self: _FilesBase, key: str, upload_id: str) -> list[UploadPart]:
        return _direct(self.store).list_parts(validate_key(key), upload_id)

    def complete_multipart(
        self: _FilesBase, key: str, upload_id: str, parts: Sequence[tuple[int, str]] | None = None
    ) -> str | None:
        """Assemble the parts (by default every uploaded part, in order)."""
        store = _direct(self.store)
        if parts is None:
            uploaded = store.list_parts(key, upload_id)
            numbers = [p.number for p in uploaded]
            if numbers != list(range(1, len(numbers) + 1)):
                raise InvalidInputError(
                    f"parts are missing: uploaded {numbers[:20]}", reason="missing_parts", key=key
                )
            parts = [(p.number, p.etag) for p in uploaded]
        return store.complete_multipart(validate_key(key), upload_id, parts)

    def abort_multipart(self: _FilesBase, key: str, upload_id: str) -> None:
        _direct(self.store).abort_multipart(validate_key(key), upload_id)

    def list_multipart_uploads(self: _FilesBase, prefix: str = "") -> list[MultipartUploadInfo]:
        return list(_direct(self.store).list_multipart_uploads(prefix))

    def verify_object(
        self: _FilesBase,
        key: str,
        *,
        filename: str,
        claimed_type: str | None,
        max_size: int,
        expected_sha256: str | None = None,
        expected_size: int | None = None,
        checksum: bool = False,
    ) -> VerifiedObject:
        """Check an uploaded object: it exists, 1..``max_size`` bytes (exactly
        ``expected_size`` when declared), its type sniffed from the first bytes (a ranged
        read) is allowed and agrees with the claim, and, with ``checksum`` or an expected
        SHA-256, its SHA-256 (a full streaming read). Raises the typed error and deletes
        nothing; ``verify_or_reject`` also deletes what it refuses."""
        return _verify(
            self,
            key,
            filename=filename,
            claimed_type=claimed_type,
            max_size=max_size,
            expected_size=expected_size,
            expected_sha256=expected_sha256,
            checksum=checksum,
        )

    def verify_or_reject(
        self: _FilesBase,
        key: str,
        *,
        filename: str,
        claimed_type: str | None,
        max_size: int,
        staging_key: str | None = None,
        expected_size: int | None = None,
        expected_sha256: str | None = None,
    ) -> VerifiedObject | Rejection:
        """Make an uploaded object a verified file at ``key``, or delete it.

        With ``staging_key`` (a form upload) the staged object is copied to ``key`` on the
        store's side and the staged one deleted, so the signed form can never reach ``key``;
        verification reads ``key`` itself, so nothing sent to the form meanwhile slips in.
        The SHA-256 is always computed (a streaming read, one chunk in memory). A refusal
        deletes the objects and returns a ``Rejection``; an object that has not arrived
        raises ``ObjectNotFoundError`` and deletes nothing. A retry after a crash between the
        copy and the record finds the object at ``key`` and verifies it again.
        """
        validate_key(key)
        if staging_key is not None:
            try:
                staged = self.store.head(validate_key(staging_key))
            except ObjectNotFoundError:
                self.store.head(key)  # raises ObjectNotFoundError when nothing arrived
                staged = None  # copied before: verify the object where it is
            if staged is not None:
                problem = _size_problem(staged.size, max_size, expected_size, key)
                if problem is not None:
                    _discard(self, key, staging_key, None)
                    return Rejection(problem)
                self.store.copy(staging_key, key)
        try:
            verified = _verify(
                self,
                key,
                filename=filename,
                claimed_type=claimed_type,
                max_size=max_size,
                expected_size=expected_size,
                expected_sha256=expected_sha256,
                checksum=True,
            )
        except InvalidInputError as exc:
            _discard(self, key, staging_key, None)
            return Rejection(exc)
        if staging_key is not None:
            self.store.delete(staging_key)
        return verified

    def discard_direct_upload(
        self: _FilesBase,
        key: str,
        *,
        staging_key: str | None = None,
        multipart_id: str | None = None,
    ) -> None:
        """Remove whatever a direct upload left: its multipart upload (an unknown one is
        already gone; any other refusal raises ``StoreError`` before anything is deleted),
        its staged object and the object at ``key``."""
        _discard(self, key, staging_key, multipart_id)
