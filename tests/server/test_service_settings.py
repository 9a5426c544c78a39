"""The service's own settings (database, JWT, CORS, logging) live with the service."""

from __future__ import annotations

import pytest

from s3files import ConfigurationError, Settings
from s3files.server.settings import ServiceSettings, load_service_settings


def test_service_only_settings_are_not_the_librarys() -> None:
    for name in ("database_url", "jwt_secret", "jwt_jwks_url", "cors_origins", "log_level"):
        assert name in ServiceSettings.model_fields
        assert name not in Settings.model_fields


def test_service_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3FILES_CORS_ORIGINS", "https://a.example, https://b.example/")
    monkeypatch.setenv("S3FILES_DATABASE_URL", "postgresql://db.example/files")
    monkeypatch.setenv("S3_BUCKET_NAME", "my-bucket")
    settings = load_service_settings()
    assert settings.cors_origins == {"https://a.example", "https://b.example"}
    assert settings.database() == "postgresql+asyncpg://db.example/files"
    assert settings.storage_location().bucket == "my-bucket"  # the core's settings too


def test_a_bad_database_url_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3FILES_DATABASE_URL", "mysql://db.example/files")
    with pytest.raises(ConfigurationError, match="S3FILES_DATABASE_URL"):
        load_service_settings()
