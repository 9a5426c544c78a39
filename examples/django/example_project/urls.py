"""The example's URLs: everything is in the gallery app."""

from django.urls import include, path

urlpatterns = [path("", include("gallery.urls"))]
