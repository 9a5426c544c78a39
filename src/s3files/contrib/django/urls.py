# mypy: disable-error-code="import-untyped"
"""``path("s3files/", include("s3files.contrib.django.urls"))``: the direct-upload sign view."""

from __future__ import annotations

from django.urls import path

from s3files.contrib.django.views import sign_direct_upload

app_name = "s3files"
urlpatterns = [
    path("uploads/sign", sign_direct_upload, name="direct-upload-sign"),
]
