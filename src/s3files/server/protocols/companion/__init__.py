"""Uppy's ``@uppy/aws-s3`` Companion routes, authorised by upload tokens in the URL."""
