"""Management commands of the s3files Django app."""
