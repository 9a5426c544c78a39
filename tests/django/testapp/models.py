"""Models of the tests: Django's own FileField and ImageField on S3FilesStorage, and the
direct-upload fields."""

from __future__ import annotations

from django.db import models

from s3files.contrib.django.fields import DirectUploadFileField, DirectUploadImageField
from s3files.contrib.django.storage import S3FilesStorage

media = S3FilesStorage(location="media")


class Document(models.Model):
    title = models.CharField(max_length=100, blank=True)
    attachment = models.FileField(storage=media, upload_to="documents", blank=True)
    picture = models.ImageField(
        storage=media,
        upload_to="pictures/%Y",
        width_field="width",
        height_field="height",
        blank=True,
    )
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        app_label = "testapp"


class Album(models.Model):
    title = models.CharField(max_length=100)
    cover = DirectUploadImageField(
        storage=media, upload_to="covers", max_upload_size=512 * 1024, width_field="width"
    )
    width = models.PositiveIntegerField(null=True, blank=True)
    booklet = DirectUploadFileField(storage=media, upload_to="booklets/%Y", blank=True)

    class Meta:
        app_label = "testapp"
