"""A plain ModelForm page with the direct-upload fields (outside the admin)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tests.django.testapp.models import Album


class AlbumForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Album
        fields = ("title", "cover", "booklet")


def new_album(request: HttpRequest) -> HttpResponse:
    form = AlbumForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        album = form.save()
        return HttpResponse(f'<p id="saved" data-id="{album.pk}">saved {album.cover.name}</p>')
    return render(request, "testapp/album_form.html", {"form": form})
