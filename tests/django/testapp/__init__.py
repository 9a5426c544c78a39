"""A small app of the Django tests: models whose files live on S3FilesStorage."""
