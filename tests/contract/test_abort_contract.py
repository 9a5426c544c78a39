"""The abort contract of direct multipart uploads, on every store: an unknown upload is
already gone (``abort_multipart`` returns), and aborting leaves nothing behind.

Housekeeping (``s3files cleanup``) relies on it: an upload that a bucket lifecycle rule
aborted before it must not stop the sweep."""

from __future__ import annotations

import uuid

import pytest

from s3files import FileStore, LocalStore, PutOptions, S3Store
from tests.contract.test_store_contract import assert_nothing_left

MiB = 1024 * 1024


def unknown_upload_id(store: LocalStore | S3Store) -> str:
    """An id the store could have given out, but did not."""
    if isinstance(store, LocalStore):
        return uuid.uuid4().hex
    return f"2~{uuid.uuid4().hex}"  # the shape of Ceph RGW's ids


def started(store: LocalStore | S3Store, key: str) -> str:
    upload_id = store.create_multipart(key, PutOptions(content_type="application/octet-stream"))
    assert [u.upload_id for u in store.list_multipart_uploads()] == [upload_id]
    return upload_id


def test_abort_of_an_unknown_upload_is_not_an_error(any_store: LocalStore | S3Store) -> None:
    files = FileStore(any_store)
    assert any_store.abort_multipart("never/started.bin", unknown_upload_id(any_store)) is None
    assert files.abort_multipart("never/started.bin", unknown_upload_id(any_store)) is None
    assert_nothing_left(files)


@pytest.mark.parametrize("upload_id", ["", "../../etc", "not an id"])
def test_abort_of_an_id_that_names_no_upload(
    any_store: LocalStore | S3Store, upload_id: str
) -> None:
    """An id no store would give out names no upload: already gone, as on S3. (An empty
    one must not become ``DELETE /key?uploadId=``, a request for the object itself.)"""
    files = FileStore(any_store)
    files.upload(b"kept", key="a.bin", filename="a.txt", content_type="text/plain")
    assert any_store.abort_multipart("a.bin", upload_id) is None
    assert files.download("a.bin") == b"kept"


def test_abort_discards_the_parts_and_twice_is_fine(any_store: LocalStore | S3Store) -> None:
    files = FileStore(any_store)
    upload_id = started(any_store, "big/parts.bin")
    presigned = any_store.presign_part("big/parts.bin", upload_id, 1, expires_in=60)
    assert presigned.method == "PUT"
    any_store.abort_multipart("big/parts.bin", upload_id)
    assert list(any_store.list_multipart_uploads()) == []
    any_store.abort_multipart("big/parts.bin", upload_id)  # already gone
    assert_nothing_left(files)


def test_abort_after_complete_keeps_the_object(any_store: LocalStore | S3Store) -> None:
    upload_id = started(any_store, "done.bin")
    if isinstance(any_store, S3Store):
        etag = any_store.client.upload_part(
            Bucket=any_store.bucket,
            Key=any_store.location.full_key("done.bin"),
            UploadId=upload_id,
            PartNumber=1,
            Body=b"x" * MiB,
        )["ETag"]
    else:  # what the service does with a part a browser PUTs to the presigned URL
        etag = any_store.write_part("done.bin", upload_id, 1, [b"x" * MiB], max_size=MiB)
    any_store.complete_multipart("done.bin", upload_id, [(1, etag)])
    any_store.abort_multipart("done.bin", upload_id)  # nothing left to abort
    assert any_store.head("done.bin").size == MiB
