from __future__ import annotations

from django.contrib import admin

from tests.django.testapp.models import Album

admin.site.register(Album)
