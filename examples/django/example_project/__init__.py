"""A minimal Django project around the s3files Django app (see ../README.md)."""
