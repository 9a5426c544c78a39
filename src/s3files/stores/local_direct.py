"""Direct uploads on the local store: signed form policies and multipart uploads whose
parts the s3files service receives (``PUT /store/<key>?uploadId=…&partNumber=…``).

Parts live in ``<root>/.s3files/multipart/<upload id>/`` until completion concatenates them
into the object (streaming, through the store's atomic writer).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from s3files._errors import InvalidInputError, ObjectNotFoundError, StoreError
from s3files._models import MultipartUploadInfo, PresignedPost, PresignedURL, PutOptions, UploadPart

if TYPE_CHECKING:
    from s3files.signing import LocalURLSigner
    from s3files.stores.base import ObjectWriter

__all__ = ["LocalDirectUploads"]

FORM_PATH = "/store-upload"


class _LocalBase(Protocol):
    @property
    def root(self) -> Path: ...

    @property
    def signer(self) -> LocalURLSigner | None: ...

    def _path(self, key: str) -> Path: ...

    def open_writer(self, key: str, options: PutOptions) -> ObjectWriter: ...

    def _multipart_dir(self, upload_id: str) -> Path: ...

    def _require_signer(self, key: str) -> LocalURLSigner: ...

    def _read_upload(self, key: str, upload_id: str) -> dict[str, Any]: ...


class LocalDirectUploads:
    """Mixed into ``LocalStore``; see ``stores.direct_uploads.DirectUploadStore``."""

    def _multipart_dir(self: _LocalBase, upload_id: str) -> Path:
        if not upload_id or not all(c in "0123456789abcdef" for c in upload_id):
            raise InvalidInputError("malformed upload id", reason="invalid_upload_id")
        return self.root / ".s3files" / "multipart" / upload_id

    def _require_signer(self: _LocalBase, key: str) -> LocalURLSigner:
        if self.signer is None:
            raise StoreError("this local store has no URL signer", key=key)
        return self.signer

    def _read_upload(self: _LocalBase, key: str, upload_id: str) -> dict[str, Any]:
        try:
            record: dict[str, Any] = json.loads(
                (self._multipart_dir(upload_id) / "upload.json").read_text()
            )
        except FileNotFoundError:
            raise ObjectNotFoundError("no such multipart upload", key=key) from None
        if record.get("key") != key:
            raise ObjectNotFoundError("no such multipart upload for this key", key=key)
        return record

    def presign_post(
        self: _LocalBase,
        key: str,
        *,
        content_type: str,
        max_size: int,
        expires_in: int,
        fields: Mapping[str, str] | None = None,
    ) -> PresignedPost:
        if fields:
            raise InvalidInputError(
                "extra form fields (such as success_action_redirect) need an S3 store",
                reason="unsupported_form_field",
                key=key,
            )
        self._path(key)
        signer = self._require_signer(key)
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
        policy, signature = signer.sign_policy(
            {
                "key": key,
                "content_type": content_type,
                "max_size": max_size,
                "expires": expires_at.timestamp(),
            }
        )
        fields = {
            "key": key,
            "Content-Type": content_type,
            "policy": policy,
            "x-s3files-signature": signature,
        }
        return PresignedPost(
            url=f"{signer.base_url}{FORM_PATH}",
            fields=fields,
            expires_at=expires_at,
            max_size=max_size,
        )

    def create_multipart(self: _LocalBase, key: str, options: PutOptions) -> str:
        self._path(key)
        upload_id = uuid.uuid4().hex
        directory = self._multipart_dir(upload_id)
        directory.mkdir(parents=True)
        (directory / "upload.json").write_text(
            json.dumps(
                {"key": key, "options": asdict(options), "initiated": datetime.now(UTC).isoformat()}
            )
        )
        return upload_id

    def presign_part(
        self: _LocalBase, key: str, upload_id: str, number: int, *, expires_in: int
    ) -> PresignedURL:
        self._read_upload(key, upload_id)
        url, expires_at = self._require_signer(key).sign(
            "PUT",
            key,
            expires_in=expires_in,
            params={"uploadId": upload_id, "partNumber": str(number)},
        )
        return PresignedURL(url=url, method="PUT", expires_at=expires_at)

    def write_part(
        self: _LocalBase,
        key: str,
        upload_id: str,
        number: int,
        chunks: Iterable[bytes],
        *,
        max_size: int,
    ) -> str:
        """Receive one part (what the S3 server does on UploadPart); returns its ETag."""
        if not 1 <= number <= 10_000:
            raise InvalidInputError("part number must be 1..10000", reason="invalid_part")
        self._read_upload(key, upload_id)
        directory = self._multipart_dir(upload_id)
        tmp = directory / f".{number}.{uuid.uuid4().hex}"
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            with tmp.open("wb") as handle:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_size:
                        raise InvalidInputError(
                            "part is larger than allowed", reason="part_too_large", key=key
                        )
                    digest.update(chunk)
                    handle.write(chunk)
            etag = digest.hexdigest()
            (directory / f"{number:05d}.json").write_text(json.dumps({"etag": etag, "size": size}))
            os.replace(tmp, directory / f"{number:05d}.part")
        finally:
            tmp.unlink(missing_ok=True)
        return etag

    def list_parts(self: _LocalBase, key: str, upload_id: str) -> list[UploadPart]:
        self._read_upload(key, upload_id)
        parts = []
        for meta in sorted(self._multipart_dir(upload_id).glob("*.json")):
            if meta.name == "upload.json" or not meta.with_suffix(".part").exists():
                continue
            info = json.loads(meta.read_text())
            parts.append(UploadPart(number=int(meta.stem), etag=info["etag"], size=info["size"]))
        return parts

    def complete_multipart(
        self: _LocalBase, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> str | None:
        record = self._read_upload(key, upload_id)
        directory = self._multipart_dir(upload_id)
        known = {p.number: p for p in LocalDirectUploads.list_parts(self, key, upload_id)}
        ordered = sorted(parts)
        if not ordered:
            raise InvalidInputError("no parts to complete", reason="InvalidPart", key=key)
        for number, etag in ordered:
            if number not in known or known[number].etag != etag.strip('"'):
                raise InvalidInputError(
                    f"part {number} is missing or changed", reason="InvalidPart", key=key
                )
        options = PutOptions(**{k: v for k, v in record["options"].items()})
        writer = self.open_writer(key, options)
        try:
            for number, _ in ordered:
                with (directory / f"{number:05d}.part").open("rb") as handle:
                    while chunk := handle.read(1024 * 1024):
                        writer.write(chunk)
            completed = writer.commit()
        except BaseException:
            writer.abort()
            raise
        shutil.rmtree(directory, ignore_errors=True)
        return completed

    def abort_multipart(self: _LocalBase, key: str, upload_id: str) -> None:
        """Discard the upload's parts. An unknown upload (or an id that cannot name one)
        is already gone; a failure to remove the parts raises ``StoreError``."""
        try:
            self._read_upload(key, upload_id)
        except (ObjectNotFoundError, InvalidInputError):
            return
        try:
            shutil.rmtree(self._multipart_dir(upload_id))
        except FileNotFoundError:
            return  # aborted at the same time by another caller
        except OSError as exc:
            raise StoreError(
                f"cannot discard multipart upload {upload_id}: {exc.strerror}", key=key
            ) from exc

    def list_multipart_uploads(self: _LocalBase, prefix: str = "") -> Iterator[MultipartUploadInfo]:
        base = self.root / ".s3files" / "multipart"
        if not base.is_dir():
            return
        for directory in sorted(base.iterdir()):
            with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
                record = json.loads((directory / "upload.json").read_text())
                if record["key"].startswith(prefix):
                    yield MultipartUploadInfo(
                        key=record["key"],
                        upload_id=directory.name,
                        initiated=datetime.fromisoformat(record["initiated"]),
                    )
