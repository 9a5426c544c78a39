"""Template tags of the s3files Django app (``{% load s3files %}``)."""
