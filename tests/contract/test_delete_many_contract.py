"""The store contract's batch delete: one call removes up to 1,000 objects on every store,
missing keys are not failures, and a call over the limit is refused before anything goes."""

from __future__ import annotations

import pytest

from s3files import FileStore, InvalidInputError, LocalStore, S3Store
from s3files.stores.base import MAX_DELETE_BATCH


def keys_in(files: FileStore) -> list[str]:
    return sorted(info.key for info in files.iter_objects())


def test_delete_many_removes_a_full_batch(any_store: LocalStore | S3Store) -> None:
    files = FileStore(any_store)
    keys = [f"batch/{index // 100}/k{index:04d}.txt" for index in range(MAX_DELETE_BATCH)]
    for key in keys[:40]:
        files.upload(b"seven b", key=key, filename="a.txt")
    kept = files.upload(b"keep", key="batch/kept.txt", filename="kept.txt").key
    # 40 objects exist, 960 keys name nothing: both kinds are gone afterwards, no failure
    assert any_store.delete_many(keys + keys[:5]) == {}
    assert keys_in(files) == [kept]
    assert any_store.delete_many([]) == {}


def test_delete_many_refuses_more_than_a_batch(any_store: LocalStore | S3Store) -> None:
    files = FileStore(any_store)
    key = files.upload(b"stay", key="over/one.txt", filename="one.txt").key
    too_many = [key] + [f"over/{index}.txt" for index in range(MAX_DELETE_BATCH)]
    with pytest.raises(InvalidInputError, match="at most 1000 keys"):
        any_store.delete_many(too_many)
    assert keys_in(files) == [key]
