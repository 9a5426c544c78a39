"""URLs of the Django tests: the admin, the direct-upload sign view, a plain form page."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from tests.django.testapp.views import new_album

urlpatterns = [
    path("admin/", admin.site.urls),
    path("s3files/", include("s3files.contrib.django.urls")),
    path("albums/new", new_album, name="new-album"),
]
