"""The Django app: a storage backend, direct browser uploads tracked by an ``Upload`` model.

``storage.S3FilesStorage`` serves ``FileField``/``ImageField`` (``S3FilesStaticStorage``:
``collectstatic``); ``fields.DirectUploadFileField``/``DirectUploadImageField`` upload from
the browser straight to the bucket, in any ModelForm and the admin (``urls.py``: the view
that signs); ``admin.py`` lists the uploads, with the actions re-verify and delete.

Add ``"s3files.contrib.django"`` to ``INSTALLED_APPS``, set the AWS settings
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_S3_BUCKET_NAME``, ``AWS_REGION``
and, for S3-compatible stores, ``AWS_S3_ENDPOINT_URL``), run ``migrate`` and
``bucket_setup``, then::

    from s3files.contrib.django.shortcuts import complete_upload, get_direct_upload_form_data

    result = get_direct_upload_form_data("photo.jpg", "image/jpeg", 5 * 1024 * 1024, "images")
    # render {% direct_upload_form result %}; after the browser's POST to the store:
    complete_upload(result["upload_id"])

Everything is built on the s3files core: the same plan, signing and verification of an
upload as the library and the HTTP service, and the same status names. This package
imports nothing at import time, as Django expects of an application package.
"""
