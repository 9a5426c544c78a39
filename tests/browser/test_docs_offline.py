"""``/docs`` and ``/redoc`` with no internet: Chromium refuses every request that leaves
the service, and both render the service's OpenAPI document from assets the service
serves. The pages (and the file manager's) send a CSP without inline script. The schema
gives each error status its own example, and 422 the ``{"error", "detail"}`` body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from s3files.server import create_app
from s3files.server.settings import ServiceSettings
from tests.browser._manager import expect, open_tab, screenshots
from tests.server.conftest import Service, make_service

RENDER_MS = 30_000


@pytest.fixture(scope="module")
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    yield from make_service(tmp_path_factory.mktemp("docs"), request, "local", "sqlite")


def test_swagger_ui_and_redoc_work_offline(browser: Any, service: Service) -> None:
    shots = screenshots("api-docs")
    tab = open_tab(browser, f"{service.url}/docs", allowed=(service.url,))
    # the bundles are megabytes of script and the schema is built on its first request: on a
    # busy two-core machine that took more than playwright's default 5 s
    expect(tab.page.locator(".swagger-ui .info .title")).to_contain_text(
        "s3files", timeout=RENDER_MS
    )
    expect(tab.page.locator(".opblock-tag").first).to_be_visible(timeout=RENDER_MS)
    tab.page.screenshot(path=str(shots / "01-swagger-ui.png"))
    tab.page.goto(f"{service.url}/redoc")
    expect(tab.page.locator("h1").first).to_contain_text("s3files", timeout=RENDER_MS)
    thumbnail_route = tab.page.get_by_text("/api/v1/files/{file_id}/thumbnail").first
    expect(thumbnail_route).to_be_attached(timeout=RENDER_MS)
    tab.page.screenshot(path=str(shots / "02-redoc.png"))
    assert tab.foreign == [], tab.foreign
    # Redoc's sidebar badge is an <img> of a CDN URL written into its bundle: the page's CSP
    # refuses it before any request is made (Redoc then drops the badge). Nothing else.
    badge = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert [e for e in tab.errors if badge not in e] == [], tab.errors
    tab.context.close()


def test_pages_send_a_csp_without_inline_script(service: Service) -> None:
    for path in ("/", "/docs", "/redoc"):
        answer = httpx.get(f"{service.url}{path}")
        policy = answer.headers["content-security-policy"]
        scripts = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
        assert scripts.split() == ["script-src", "'self'"], policy
        assert "frame-ancestors 'none'" in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in answer.text and " style=" not in answer.text
    assert httpx.get(f"{service.url}/docs-assets/swagger-ui-bundle.js").status_code == 200


def test_every_error_status_has_its_own_example(tmp_path: Path) -> None:
    app = create_app(ServiceSettings(data_dir=tmp_path, storage_url=f"file://{tmp_path / 'f'}"))
    schema = app.openapi()
    seen: dict[tuple[str, str], set[str]] = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith(("4", "5")):
                    continue
                body = response["content"]["application/json"]
                if (path, status) == ("/readyz", "503"):  # its own body: which check failed
                    assert body["example"]["status"] == "unavailable"
                    continue
                assert body["schema"] == {"$ref": "#/components/schemas/ErrorBody"} or (
                    body["schema"].get("$ref", "").endswith("/ErrorBody")
                ), (method, path, status)
                example = body["example"]
                assert set(example) == {"error", "detail"}, (method, path, status)
                seen.setdefault((method, status), set()).add(example["error"])
                if status == "422":
                    assert example["error"] in (
                        "validation_error",
                        "idempotency_key_reused",
                        "image_too_large",
                        "upload_rejected",
                    ), (path, example)
                if status == "413" and method == "get":
                    assert example["error"] == "body_too_large", (path, example)
                if status == "404" and path.startswith("/api/v1/folders"):
                    assert "folder" in example["detail"], (path, example)
                if status == "400" and method in ("get", "delete") and "{file_id}" in path:
                    assert example["error"] != "invalid_metadata", (method, path, example)
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert (
        schema["paths"]["/api/v1/files/{file_id}/thumbnail"]["get"]["responses"]["404"]["content"][
            "application/json"
        ]["example"]["error"]
        == "no_preview"
    )
