"""Opt-in integrations with other frameworks; nothing here is imported by ``s3files``.

``s3files.contrib.django`` is the Django app: direct browser uploads to S3, a server-side
``S3Client`` and django-storages style settings (``pip install "s3files[django]"``).
"""
