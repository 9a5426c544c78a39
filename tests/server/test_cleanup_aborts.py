"""``s3files cleanup --fix`` and multipart uploads the store will not (or need not) abort.

An upload that a bucket lifecycle rule already aborted is done: it is marked expired and
cleanup goes on. An abort the store refuses leaves the upload pending (its parts are still
stored and billed), is reported with the upload id, and cleanup goes on to the next."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import samples
from tests.conftest import new_bucket
from tests.server.conftest import Service, make_service
from tests.server.test_cleanup import cli, findings, run_cleanup
from tests.server.test_direct_uploads import put_parts

MiB = 1024 * 1024


def start_multipart(client: httpx.Client, name: str) -> dict[str, Any]:
    upload: dict[str, Any] = client.post(
        "/api/v1/uploads/multipart",
        json={"original_filename": name, "content_type": "application/zip", "size": 6 * MiB},
    ).json()
    put_parts(client, upload, samples.zip_archive() + os.urandom(6 * MiB), [1])
    return upload


async def _expire(session: Any) -> None:
    from sqlalchemy import text

    await session.execute(text("update uploads set expires_at = '2000-01-01 00:00:00'"))


def multipart_id(service: Service, upload: dict[str, Any]) -> str:
    [(value,)] = service.db_rows(
        f"select multipart_id from uploads where id = '{uuid.UUID(upload['upload_id']).hex}'"
    )
    return str(value)


def statuses(service: Service) -> dict[str, str]:
    return {
        str(uuid.UUID(str(row[0]))): row[1]
        for row in service.db_rows("select id, status from uploads")
    }


def test_an_upload_a_lifecycle_rule_aborted_is_done(
    sqlite_service: Service, boto_client: Any
) -> None:
    service = sqlite_service
    with service.client() as client:
        gone = start_multipart(client, "gone.zip")
        other = start_multipart(client, "other.zip")
    service.run(_expire)
    # the store forgets the first upload behind the service's back
    settings = service.settings
    if settings.storage_url and settings.storage_url.startswith("s3://"):
        bucket, prefix = settings.storage_url.removeprefix("s3://").split("/", 1)
        boto_client.abort_multipart_upload(
            Bucket=bucket, Key=f"{prefix}/{gone['key']}", UploadId=multipart_id(service, gone)
        )
    else:
        root = Path(settings.storage_url.removeprefix("file://"))
        shutil.rmtree(root / ".s3files" / "multipart" / multipart_id(service, gone))

    report = run_cleanup(settings, "--fix", "--grace-minutes", "0")
    assert findings(report) == {"expired_uploads": 2}, report
    assert statuses(service) == {gone["upload_id"]: "expired", other["upload_id"]: "expired"}
    assert service.library().list_multipart_uploads() == []
    assert findings(run_cleanup(settings, "--grace-minutes", "0")) == {}


def _deny_abort(boto_client: Any, bucket: str) -> None:
    boto_client.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:AbortMultipartUpload",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                    }
                ],
            }
        ),
    )


def test_a_refused_abort_is_reported_and_cleanup_goes_on(
    tmp_path: Path, request: pytest.FixtureRequest, boto_client: Any
) -> None:
    bucket = new_bucket(boto_client)  # a bucket of its own: its policy refuses aborts
    running = make_service(tmp_path, request, "s3", "sqlite", storage_url=f"s3://{bucket}/svc")
    service = next(running)
    try:
        with service.client() as client:
            first = start_multipart(client, "first.zip")
            second = start_multipart(client, "second.zip")
            form = client.post(
                "/api/v1/uploads", json={"original_filename": "a.png", "content_type": "image/png"}
            ).json()
            httpx.post(
                form["form_url"], data=form["form_fields"], files={"file": ("a.png", samples.png())}
            )
        service.run(_expire)
        _deny_abort(boto_client, bucket)

        done = cli(service.settings, "cleanup", "--json", "--fix", "--grace-minutes", "0")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["expired_uploads"] == 3, report
        refused = report["refused_aborts"]
        assert sorted(entry.split(":", 1)[0] for entry in refused) == sorted(
            [first["upload_id"], second["upload_id"]]
        ), refused
        # the refused ones stay pending (their parts are stored); the form upload went on
        assert statuses(service) == {
            first["upload_id"]: "pending",
            second["upload_id"]: "pending",
            form["upload_id"]: "expired",
        }
        assert not service.library().exists(form["key"])
        assert len(service.library().list_multipart_uploads()) == 2

        boto_client.delete_bucket_policy(Bucket=bucket)  # allowed again: the next run finishes
        assert findings(run_cleanup(service.settings, "--fix", "--grace-minutes", "0")) == {
            "expired_uploads": 2
        }
        assert set(statuses(service).values()) == {"expired"}
        assert service.library().list_multipart_uploads() == []
    finally:
        next(running, None)
