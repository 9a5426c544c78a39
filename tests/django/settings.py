"""Django settings of the s3files Django app's tests (applied by conftest.py with
``settings.configure``, so other test folders never need DJANGO_SETTINGS_MODULE).

The AWS_* values are placeholders: a session fixture points them at the Ceph RGW."""

SECRET_KEY = "s3files-django-tests-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "s3files.contrib.django",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"string_if_invalid": "INVALID(%s)"},
    }
]

AWS_ACCESS_KEY_ID = ""
AWS_SECRET_ACCESS_KEY = ""
AWS_S3_BUCKET_NAME = ""
AWS_REGION = "us-east-1"
S3FILES_MAX_UPLOAD_SIZE = 1024 * 1024
