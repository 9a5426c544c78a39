"""``/api/v1/buckets`` and ``/api/v1/search``: admin-only browsing of every bucket the
service's S3 credentials reach, over the async ``S3Connector``."""
