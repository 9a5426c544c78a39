"""Brief 004's examples, with its paths and field names, against the running service."""

from __future__ import annotations

import json

import httpx
import pytest

from tests import samples
from tests.server.conftest import Service


def upload(client: httpx.Client, content: bytes, name: str, **data: object) -> httpx.Response:
    return client.post(
        "/api/v1/files/upload",
        files={"file": (name, content)},
        data={k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()},
    )


def test_upload_example(service: Service) -> None:
    with service.client() as client:
        response = client.post(
            "/api/v1/files/upload",
            files={"file": ("document.pdf", samples.pdf())},
            data={"folder": "documents", "description": "Important document", "is_public": False},
        )
    assert response.status_code == 201, response.text
    file_data = response.json()
    assert file_data["id"] and file_data["s3_key"]
    assert file_data["folder"] == "documents"
    assert file_data["description"] == "Important document"
    assert file_data["is_public"] is False
    assert file_data["content_type"] == "application/pdf"
    assert file_data["file_size"] == len(samples.pdf())
    assert service.library().download(file_data["s3_key"]) == samples.pdf()


def test_curl_style_upload_with_file_first(service: Service) -> None:
    """curl -F "file=@document.pdf" -F "folder=documents" sends the file before the fields."""
    boundary = "----s3filesboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="document.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + samples.pdf()
        + (
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="folder"\r\n\r\ndocuments'
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\n'
            f"Important document\r\n--{boundary}--\r\n"
        ).encode()
    )
    with service.client() as client:
        response = client.post(
            "/api/v1/files/upload",
            content=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    assert response.status_code == 201, response.text
    assert response.json()["folder"] == "documents"
    assert response.json()["description"] == "Important document"


def test_presigned_url_and_download_examples(service: Service) -> None:
    with service.client() as client:
        file_id = upload(client, samples.pdf(), "report.pdf").json()["id"]
        response = client.get(
            f"/api/v1/files/{file_id}/presigned-url",
            params={"expiry": 3600, "force_download": True},
        )
        assert response.status_code == 200, response.text
        url_data = response.json()
        assert url_data["expires_in"] == 3600
        fetched = httpx.get(url_data["url"])
        assert fetched.status_code == 200
        assert fetched.content == samples.pdf()
        assert fetched.headers["content-disposition"].startswith("attachment")
        assert "report.pdf" in fetched.headers["content-disposition"]

        capped = client.get(f"/api/v1/files/{file_id}/presigned-url", params={"expiry": 99999})
        assert capped.json()["expires_in"] == service.settings.s3_presigned_url_expiry

        response = client.get(f"/api/v1/files/{file_id}/download", params={"as_attachment": True})
        assert response.status_code == 200
        assert response.content == samples.pdf()
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.headers["x-content-type-options"] == "nosniff"


def test_metadata_example(service: Service) -> None:
    with service.client() as client:
        response = upload(
            client,
            samples.jpeg(),
            "image.jpg",
            folder="images",
            metadata={"category": "profile", "tags": ["user", "avatar"], "processed": False},
        )
        assert response.status_code == 201, response.text
        file_id = response.json()["id"]
        metadata = client.get(f"/api/v1/files/{file_id}/metadata").json()
    assert metadata["content_type"] == "image/jpeg"
    assert metadata["file_size"] == len(samples.jpeg())
    assert metadata["last_modified"]
    assert metadata["metadata"] == {
        "category": "profile",
        "tags": ["user", "avatar"],
        "processed": False,
    }


def test_custom_folder_copy_and_deletes(service: Service) -> None:
    with service.client() as client:
        response = upload(client, samples.pdf(), "report.pdf", folder="users/42/documents")
        assert response.json()["folder"] == "users/42/documents"
        file_id = response.json()["id"]

        copied = client.post(
            f"/api/v1/files/{file_id}/copy",
            json={
                "new_folder": "archives",
                "new_metadata": {"archived": True, "date": "2025-01-15"},
            },
        )
        assert copied.status_code == 201, copied.text
        copy = copied.json()
        assert copy["id"] != file_id and copy["s3_key"] != response.json()["s3_key"]
        assert copy["folder"] == "archives"
        assert copy["metadata"] == {"archived": True, "date": "2025-01-15"}
        assert client.get(f"/api/v1/files/{copy['id']}/download").content == samples.pdf()

        # soft delete keeps the object
        assert client.delete(f"/api/v1/files/{file_id}").status_code == 204
        assert client.get(f"/api/v1/files/{file_id}").status_code == 404
        assert service.library().exists(response.json()["s3_key"])
        trash = client.get("/api/v1/files", params={"deleted": True}).json()["items"]
        assert [f["id"] for f in trash] == [file_id]
        restored = client.post(f"/api/v1/files/{file_id}/restore")
        assert restored.status_code == 200 and restored.json()["status"] == "active"

        # hard delete removes object and record
        assert client.delete(f"/api/v1/files/{file_id}?hard_delete=true").status_code == 204
        assert not service.library().exists(response.json()["s3_key"])
        assert client.get(f"/api/v1/files/{file_id}").status_code == 404
        assert client.post(f"/api/v1/files/{file_id}/restore").status_code == 404


def test_testing_example(service: Service) -> None:
    """The module's own test posts ('test.pdf', b'fake pdf content', 'application/pdf'):
    plain text under a name that promises a PDF is a type mismatch (415), while a real PDF
    under that name is stored as one (201)."""
    with service.client() as client:
        files = {"file": ("test.pdf", b"fake pdf content", "application/pdf")}
        refused = client.post("/api/v1/files/upload", files=files)
        files = {"file": ("test.pdf", samples.pdf(), "application/pdf")}
        response = client.post("/api/v1/files/upload", files=files)
    assert refused.status_code == 415
    assert refused.json()["error"] == "unsupported_file_type"
    assert response.status_code == 201
    data = response.json()
    assert "id" in data
    assert "s3_key" in data
    assert data["content_type"] == "application/pdf"


@pytest.mark.parametrize("public", [True, False])
def test_public_files_need_no_credentials(service: Service, public: bool) -> None:
    with service.client() as client:
        file_id = upload(client, samples.png(), "logo.png", is_public=public).json()["id"]
    with service.client(None) as anonymous:
        response = anonymous.get(f"/api/v1/files/{file_id}/download")
        if public:
            assert response.status_code == 200 and response.content == samples.png()
        else:
            assert response.status_code == 401
            assert response.json()["error"] == "unauthorized"
        assert anonymous.get(f"/api/v1/files/{file_id}").status_code == 401
