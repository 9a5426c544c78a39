"""Routes of the gallery."""

from django.urls import path

from gallery import views

app_name = "gallery"
urlpatterns = [
    path("", views.index, name="index"),
    path("uploads/sign/", views.sign, name="sign"),
    path("uploads/<uuid:upload_id>/complete/", views.complete, name="complete"),
    path("uploads/<uuid:upload_id>/file/", views.open_file, name="file"),
    path("uploads/<uuid:upload_id>/delete/", views.delete, name="delete"),
]
