"""Opt-in integrations with other frameworks; nothing here is imported by ``s3files``.

``s3files.contrib.django`` is the Django app of brief 003 (``pip install "s3files[django]"``).
"""
