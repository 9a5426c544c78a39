"""The Upload model's migrations upgrade a database with rows in it: ``failed`` rows get
the status names the service uses, and the new columns get their defaults."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from s3files.contrib.django.models import Upload

BEFORE = [("s3files", "0001_initial")]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_failed_rows_get_the_shared_status_names() -> None:
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("s3files")
    executor = _migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps.get_model("s3files", "Upload")
        rows = {
            "verification refused it": "rejected",
            "the client reported that the upload failed": "aborted",
            "the upload form expired before the file arrived": "expired",
        }
        ids = {}
        for number, (error, _) in enumerate(rows.items()):
            ids[error] = old.objects.create(
                id=uuid.uuid4(),
                original_filename="a.png",
                bucket="b",
                key=f"k/{number}.png",
                content_type="image/png",
                max_size=10,
                status="failed",
                error=error,
                expires_at=timezone.now() + timedelta(hours=1),
            ).pk
        kept = old.objects.create(
            id=uuid.uuid4(),
            original_filename="b.png",
            bucket="b",
            key="k/done.png",
            content_type="image/png",
            max_size=10,
            size=5,
            status="complete",
            expires_at=timezone.now(),
        ).pk
    finally:
        _migrate(latest)
    for error, status in rows.items():
        upload = Upload.objects.get(pk=ids[error])
        assert (upload.status, upload.error) == (status, error)
        assert upload.staging_key == "" and upload.sha256 == "" and upload.completing_until is None
    done = Upload.objects.get(pk=kept)
    assert (done.status, done.size, done.key) == ("complete", 5, "k/done.png")
    assert not Upload.objects.filter(status="failed").exists()
