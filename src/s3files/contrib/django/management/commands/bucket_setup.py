# mypy: disable-error-code="import-untyped", allow-subclassing-any
# (Django ships no type hints; these go once the project types it with django-stubs.)
"""``manage.py bucket_setup``: the CORS rules browsers need to upload straight to the bucket.

    python manage.py bucket_setup --origin https://app.example.com

The rule (GET, POST and PUT from ``*``, any header, ``MaxAgeSeconds`` 3000) applied
by the core's ``S3Store.configure_cors``, which also allows HEAD and exposes ``ETag`` (what
multipart uploads read). Origins come from ``--origin`` or ``S3FILES_CORS_ORIGINS``.
The bucket's existing CORS rules are replaced.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from s3files._errors import S3FilesError
from s3files.contrib.django.conf import get_file_store, load_config
from s3files.stores.s3 import S3Store


class Command(BaseCommand):
    help = "Apply the direct-upload CORS rules to the configured bucket (replaces existing rules)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--origin",
            action="append",
            dest="origins",
            metavar="ORIGIN",
            help="an origin allowed to upload (repeatable; default S3FILES_CORS_ORIGINS or *)",
        )
        parser.add_argument(
            "--max-age",
            type=int,
            default=3000,
            help="seconds browsers may cache the preflight answer (default 3000)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["max_age"] < 0:
            raise CommandError("--max-age must not be negative")
        try:
            origins = options["origins"] or list(load_config().cors_origins)
            store = get_file_store().store
            if not isinstance(store, S3Store):
                raise CommandError("bucket_setup needs an S3 bucket")
            store.configure_cors(origins, max_age=options["max_age"])
            rules = store.get_cors()
        except S3FilesError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"CORS rules of bucket {store.bucket}:")
        self.stdout.write(json.dumps(rules, indent=2, sort_keys=True))
