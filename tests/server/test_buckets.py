"""Bucket administration over HTTP: admin keys browse every bucket the service's S3
credentials reach; other callers get 403 (or 401 without credentials)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import new_bucket
from tests.server.conftest import Service, make_service

ROUTES = ("/api/v1/buckets", "/api/v1/buckets/{b}", "/api/v1/buckets/{b}/objects", "/api/v1/search")


@pytest.fixture(scope="module")
def s3_service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """One service over Ceph RGW for the module (the tests only read)."""
    yield from make_service(tmp_path_factory.mktemp("svc"), request, "s3", "sqlite")


@pytest.fixture(scope="module")
def browsed(boto_client: Any) -> tuple[str, str, list[str]]:
    """A bucket with five objects under a unique prefix, tagged; (bucket, prefix, keys)."""
    bucket = new_bucket(boto_client)
    prefix = f"browse-{uuid.uuid4().hex[:8]}/"
    keys = [f"{prefix}{n}.txt" for n in range(5)]
    for key in keys:
        boto_client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    boto_client.put_object(Bucket=bucket, Key="elsewhere.txt", Body=b"x")
    boto_client.put_bucket_tagging(
        Bucket=bucket, Tagging={"TagSet": [{"Key": "owner", "Value": "ops"}]}
    )
    return bucket, prefix, keys


def test_admin_lists_buckets(s3_service: Service, browsed: tuple[str, str, list[str]]) -> None:
    bucket, _, _ = browsed
    with s3_service.client("root") as client:
        response = client.get("/api/v1/buckets")
        assert response.status_code == 200, response.text
        items = {item["name"]: item for item in response.json()["items"]}
        assert bucket in items
        assert items[bucket]["region"] == "default" and items[bucket]["creation_date"]
        names = [item["name"] for item in response.json()["items"]]
        assert names == sorted(names)

        detail = client.get(f"/api/v1/buckets/{bucket}").json()
        assert detail["name"] == bucket and detail["tags"] == {"owner": "ops"}
        assert detail["versioning"] is None and detail["policy"] is None
        assert detail["unreadable"] == {}


def test_admin_pages_through_objects(
    s3_service: Service, browsed: tuple[str, str, list[str]]
) -> None:
    bucket, prefix, keys = browsed
    seen: list[str] = []
    pages = 0
    token: str | None = None
    with s3_service.client("root") as client:
        while True:
            params: dict[str, Any] = {"prefix": prefix, "max_keys": 2}
            if token:
                params["continuation_token"] = token
            response = client.get(f"/api/v1/buckets/{bucket}/objects", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            assert page["bucket"] == bucket and page["prefix"] == prefix
            assert len(page["items"]) <= 2
            seen.extend(item["key"] for item in page["items"])
            pages += 1
            token = page["next_continuation_token"]
            if token is None:
                break
        assert seen == keys and pages == 3
        everything = client.get(f"/api/v1/buckets/{bucket}/objects").json()
        assert len(everything["items"]) == 6 and everything["next_continuation_token"] is None
        first = everything["items"][0]
        assert set(first) == {
            "key",
            "size",
            "last_modified",
            "etag",
            "storage_class",
            "bucket_name",
        }
        assert first["bucket_name"] == bucket and first["storage_class"] == "STANDARD"


def test_admin_searches(s3_service: Service, browsed: tuple[str, str, list[str]]) -> None:
    bucket, prefix, keys = browsed
    with s3_service.client("root") as client:
        one = client.get("/api/v1/search", params={"q": prefix, "bucket": bucket}).json()
        assert [item["key"] for item in one["items"]] == keys and one["truncated"] is False
        everywhere = client.get("/api/v1/search", params={"q": prefix}).json()
        assert [(i["bucket_name"], i["key"]) for i in everywhere["items"]] == [
            (bucket, key) for key in keys
        ]
        limited = client.get("/api/v1/search", params={"q": prefix, "limit": 3}).json()
        assert len(limited["items"]) == 3 and limited["truncated"] is True
        assert client.get("/api/v1/search", params={"q": "zz-none-"}).json()["items"] == []


def test_only_admins(s3_service: Service, browsed: tuple[str, str, list[str]]) -> None:
    bucket, _, _ = browsed
    paths = [route.format(b=bucket) for route in ROUTES]
    for who, status, error in (
        ("alice", 403, "forbidden"),
        (None, 401, "unauthorized"),
        ("gone", 401, "unauthorized"),  # a revoked key
    ):
        with s3_service.client(who) as client:
            for path in paths:
                response = client.get(path, params={"q": "x"} if "search" in path else None)
                assert response.status_code == status, (who, path, response.text)
                assert response.json()["error"] == error


def test_missing_bucket_and_bad_input(s3_service: Service) -> None:
    missing = f"s3files-missing-{uuid.uuid4().hex[:10]}"
    with s3_service.client("root") as client:
        for path, params in (
            (f"/api/v1/buckets/{missing}", None),
            (f"/api/v1/buckets/{missing}/objects", None),
            ("/api/v1/search", {"q": "x", "bucket": missing}),
        ):
            response = client.get(path, params=params)
            assert response.status_code == 404, response.text
            assert response.json()["error"] == "bucket_not_found"
            assert missing in response.json()["detail"]
        for path, params in (
            ("/api/v1/buckets/b/objects", {"max_keys": 0}),
            ("/api/v1/buckets/b/objects", {"max_keys": 1001}),
            ("/api/v1/buckets/bad%20name", None),
            ("/api/v1/search", None),  # q is required
            ("/api/v1/search", {"q": "x", "limit": 0}),
            ("/api/v1/search", {"q": "x", "bucket": "a/b"}),
        ):
            response = client.get(path, params=params)
            assert response.status_code == 422, (path, response.text)
            assert response.json()["error"] == "validation_error"


def test_documented_in_openapi(s3_service: Service) -> None:
    with s3_service.client(None) as client:
        paths = client.get("/openapi.json").json()["paths"]
    for route in ROUTES:
        documented = paths[route.replace("{b}", "{name}")]["get"]
        assert {"401", "403"} <= set(documented["responses"])


@pytest.fixture
def local_service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    yield from make_service(tmp_path, request, "local", "sqlite")


def test_not_available_on_the_local_store(local_service: Service) -> None:
    with local_service.client("root") as client:
        response = client.get("/api/v1/buckets")
        assert response.status_code == 404
        assert response.json()["error"] == "not_available"
        assert "S3" in response.json()["detail"]
    with local_service.client("alice") as client:
        assert client.get("/api/v1/buckets").status_code == 403
