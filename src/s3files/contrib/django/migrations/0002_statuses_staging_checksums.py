# mypy: disable-error-code="import-untyped", allow-subclassing-any
# (Django ships no type hints; these go once the project types it with django-stubs.)
"""One set of status names with the service (``failed`` becomes ``rejected``, or ``aborted``
/ ``expired`` where the row's error says the client gave up or the form expired), the
staging key a signed form writes to, the completion lease, and the file's SHA-256 and ETag.
"""

from typing import Any

from django.db import migrations, models

# The words shortcuts.py wrote for the two failures that were not a verification refusal.
_CLIENT_GAVE_UP = "the client reported that the upload failed"
_FORM_EXPIRED = "the upload form expired before the file arrived"


def failed_to_new_names(apps: Any, schema_editor: Any) -> None:
    uploads = apps.get_model("s3files", "Upload").objects.filter(status="failed")
    uploads.filter(error=_CLIENT_GAVE_UP).update(status="aborted")
    uploads.filter(error=_FORM_EXPIRED).update(status="expired")
    uploads.update(status="rejected")


def new_names_to_failed(apps: Any, schema_editor: Any) -> None:
    uploads = apps.get_model("s3files", "Upload").objects
    uploads.filter(status__in=("rejected", "aborted", "expired")).update(status="failed")


class Migration(migrations.Migration):
    dependencies = (("s3files", "0001_initial"),)

    operations = (
        migrations.AddField(
            model_name="upload",
            name="staging_key",
            field=models.CharField(
                blank=True,
                default="",
                help_text="where the signed form writes; empty for rows from before staging",
                max_length=1024,
            ),
        ),
        migrations.AddField(
            model_name="upload",
            name="sha256",
            field=models.CharField(
                blank=True, default="", help_text="once complete", max_length=64
            ),
        ),
        migrations.AddField(
            model_name="upload",
            name="etag",
            field=models.CharField(
                blank=True, default="", help_text="once complete", max_length=128
            ),
        ),
        migrations.AddField(
            model_name="upload",
            name="completing_until",
            field=models.DateTimeField(
                blank=True, help_text="lease of the completion in flight", null=True
            ),
        ),
        migrations.AlterField(
            model_name="upload",
            name="error",
            field=models.TextField(
                blank=True, default="", help_text="why the upload did not complete"
            ),
        ),
        migrations.AlterField(
            model_name="upload",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("complete", "Complete"),
                    ("rejected", "Rejected"),
                    ("aborted", "Aborted"),
                    ("expired", "Expired"),
                ],
                db_index=True,
                default="pending",
                max_length=16,
            ),
        ),
        migrations.RunPython(failed_to_new_names, new_names_to_failed),
    )
