# mypy: disable-error-code="import-untyped", allow-subclassing-any
# (Django ships no type hints; these go once the project types it with django-stubs.)
"""Django's view of the app: label ``s3files``, tables ``s3files_*``."""

from __future__ import annotations

from django.apps import AppConfig
from django.core.signals import setting_changed


class S3FilesConfig(AppConfig):
    """Registers the app; forgets cached stores when a relevant setting changes (tests)."""

    name = "s3files.contrib.django"
    label = "s3files"
    verbose_name = "S3 files"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from s3files.contrib.django.conf import on_setting_changed

        setting_changed.connect(on_setting_changed, dispatch_uid="s3files-config-reset")
