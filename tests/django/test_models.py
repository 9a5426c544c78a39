"""The Upload model: its migration, its states, its constraints."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import IntegrityError, connection
from django.utils import timezone

from s3files.contrib.django.models import Upload
from s3files.direct import UploadStatus

pytestmark = pytest.mark.django_db


def new_upload(key: str = "k/1.png", **fields: object) -> Upload:
    values: dict[str, object] = {
        "original_filename": "1.png",
        "bucket": "b",
        "key": key,
        "content_type": "image/png",
        "max_size": 100,
        "expires_at": timezone.now() + timedelta(hours=1),
        **fields,
    }
    return Upload.objects.create(**values)


def test_migration_creates_the_table_and_matches_the_model() -> None:
    assert "s3files_upload" in connection.introspection.table_names()
    out = io.StringIO()
    call_command("makemigrations", "s3files", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_statuses_are_the_services() -> None:
    assert (
        Upload.STATUS_PENDING,
        Upload.STATUS_COMPLETE,
        Upload.STATUS_REJECTED,
        Upload.STATUS_ABORTED,
        Upload.STATUS_EXPIRED,
    ) == ("pending", "complete", "rejected", "aborted", "expired")
    assert tuple(value for value, _ in Upload.STATUS_CHOICES) == UploadStatus.ALL


def test_a_new_upload_is_pending_with_a_random_id() -> None:
    first, second = new_upload("k/1.png"), new_upload("k/2.png")
    assert first.status == Upload.STATUS_PENDING and not first.is_complete
    assert first.pk.version == 4 and first.pk != second.pk
    assert first.created_at <= first.updated_at and first.completed_at is None
    assert str(first) == "1.png (pending)"
    assert list(Upload.objects.all()) == [second, first]  # newest first


def test_keys_are_unique() -> None:
    new_upload("k/same.png")
    with pytest.raises(IntegrityError):
        new_upload("k/same.png")


def test_deleting_the_owner_keeps_the_upload() -> None:
    user = get_user_model().objects.create_user("carol")
    upload = new_upload(owner=user)
    assert list(user.s3files_uploads.all()) == [upload]
    user.delete()
    upload.refresh_from_db()
    assert upload.owner is None
