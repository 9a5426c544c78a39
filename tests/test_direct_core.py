"""The core's rules of a direct upload, on every store: plan (no I/O), sign to a staging
key, verify or reject (copy to the final key, SHA-256, declared size), discard."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from datetime import UTC, datetime, timedelta

import pytest

from s3files import FileStore
from s3files._errors import (
    FileTooLargeError,
    InvalidKeyError,
    ObjectNotFoundError,
    UnsupportedFileTypeError,
)
from s3files._models import PutOptions
from s3files.direct import Rejection, UploadStatus, VerifiedObject, is_staging_key
from tests import samples

MiB = 1024 * 1024


def stage(files: FileStore, key: str, body: bytes) -> None:
    """What the store does with the signed form: the bytes land on the staging key,
    unchecked."""
    writer = files.store.open_writer(key, PutOptions(content_type="image/png"))
    writer.write(body)
    writer.commit()


def test_a_plan_is_decided_before_anything_is_signed(files: FileStore) -> None:
    plan = files.plan_direct_upload(
        "../Holiday Photo.PNG", "image/png; charset=x", max_size=10**15, prefix="a/b"
    )
    assert plan.key.startswith("a/b/") and ".." not in plan.key
    assert plan.staging_key is not None and is_staging_key(plan.staging_key)
    assert plan.staging_key.endswith(plan.upload_id.hex) and plan.upload_key == plan.staging_key
    assert (plan.filename, plan.content_type, plan.max_size) == (
        ".._Holiday Photo.PNG",  # a name is never a path: separators replaced
        "image/png",
        64 * MiB,
    )
    assert plan.parts is None
    assert timedelta(minutes=59) < plan.expires_at - datetime.now(UTC) <= timedelta(hours=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.key = "elsewhere"  # type: ignore[misc]

    big = files.plan_direct_upload("a.zip", "application/zip", size=20 * MiB)
    assert big.staging_key is None and big.upload_key == big.key
    assert big.parts is not None and (big.parts.part_count, big.parts.size) == (3, 20 * MiB)
    assert big.expires_at - datetime.now(UTC) > timedelta(hours=23)

    for name, claimed, error in [
        ("run.exe", "application/octet-stream", UnsupportedFileTypeError),
        ("page.png", "text/html", UnsupportedFileTypeError),
    ]:
        with pytest.raises(error):
            files.plan_direct_upload(name, claimed)
    with pytest.raises(FileTooLargeError):
        files.plan_direct_upload("a.zip", "application/zip", size=65 * MiB)
    with pytest.raises(InvalidKeyError):
        files.plan_direct_upload("a.png", "image/png", prefix="a/../b")


def test_the_form_is_signed_for_the_staging_key(files: FileStore) -> None:
    plan = files.plan_direct_upload("a.png", "image/png", max_size=MiB)
    post = files.sign_direct_upload(plan)
    assert post.fields["key"].endswith(str(plan.staging_key))
    assert post.max_size == MiB and abs(post.expires_at - plan.expires_at) < timedelta(seconds=2)


def test_verify_moves_the_staged_object_and_hashes_it(files: FileStore) -> None:
    body = samples.png() + os.urandom(50_000)
    plan = files.plan_direct_upload("a.png", "image/png", max_size=MiB)
    assert plan.staging_key is not None
    with pytest.raises(ObjectNotFoundError):  # nothing arrived yet: nothing is deleted
        files.verify_or_reject(
            plan.key,
            filename=plan.filename,
            claimed_type=plan.content_type,
            max_size=plan.max_size,
            staging_key=plan.staging_key,
        )
    stage(files, plan.staging_key, body)
    outcome = files.verify_or_reject(
        plan.key,
        filename=plan.filename,
        claimed_type=plan.content_type,
        max_size=plan.max_size,
        staging_key=plan.staging_key,
    )
    assert isinstance(outcome, VerifiedObject)
    assert (outcome.size, outcome.content_type) == (len(body), "image/png")
    assert outcome.sha256 == hashlib.sha256(body).hexdigest() and outcome.etag
    assert files.download(plan.key) == body and not files.exists(plan.staging_key)
    # a retry after a crash between the copy and the record verifies the file where it is
    again = files.verify_or_reject(
        plan.key,
        filename=plan.filename,
        claimed_type=plan.content_type,
        max_size=plan.max_size,
        staging_key=plan.staging_key,
    )
    assert again == outcome


@pytest.mark.parametrize(
    ("body", "expected_size", "code", "reason"),
    [
        (samples.pdf(), None, "unsupported_file_type", "type_mismatch"),
        (samples.png() + bytes(2 * MiB), None, "file_too_large", "file_too_large"),
        (samples.png() + bytes(1000), 10, "file_too_large", "larger_than_declared"),
        (samples.png(), 10**5, "invalid_input", "size_mismatch"),
    ],
)
def test_a_refused_object_is_deleted_with_a_typed_rejection(
    files: FileStore, body: bytes, expected_size: int | None, code: str, reason: str
) -> None:
    plan = files.plan_direct_upload("a.png", "image/png", max_size=MiB)
    assert plan.staging_key is not None
    stage(files, plan.staging_key, body)
    outcome = files.verify_or_reject(
        plan.key,
        filename=plan.filename,
        claimed_type=plan.content_type,
        max_size=plan.max_size,
        staging_key=plan.staging_key,
        expected_size=expected_size,
    )
    assert isinstance(outcome, Rejection)
    assert outcome.error.code == code and outcome.reason.startswith(code)
    assert outcome.error.reason == reason and outcome.message
    assert not files.exists(plan.key) and not files.exists(plan.staging_key)


def test_discard_removes_whatever_an_upload_left(files: FileStore) -> None:
    plan = files.plan_direct_upload("a.zip", "application/zip", size=6 * MiB)
    multipart_id = files.start_multipart(plan.key, content_type=plan.content_type)
    staged = files.plan_direct_upload("b.png", "image/png")
    assert staged.staging_key is not None
    stage(files, staged.staging_key, samples.png())
    files.discard_direct_upload(plan.key, multipart_id=multipart_id)
    files.discard_direct_upload(staged.key, staging_key=staged.staging_key)
    assert files.list_multipart_uploads() == []
    assert not files.exists(staged.staging_key)


def test_the_status_names() -> None:
    assert UploadStatus.ALL == ("pending", "complete", "rejected", "aborted", "expired")
