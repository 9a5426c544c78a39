"""The async S3 connector: browse and read any bucket an account can reach.

    from s3files import S3Connector

    async with S3Connector() as connector:
        await connector.connect({
            "aws_access_key_id": "...", "aws_secret_access_key": "...",
            "region_name": "us-east-1",
            "endpoint_url": "http://127.0.0.1:7480",    # S3-compatible stores only
        })
        for bucket in await connector.list_buckets():
            print(bucket.name, bucket.region)
        async for obj in connector.iter_bucket_objects("logs", prefix="2025/"):
            print(obj.key, obj.size, obj.storage_class)

Blocking botocore calls run on worker threads (never on the event loop); every call is
rate-limited (token bucket), retried on throttling, 5xx and network failures (exponential
backoff with full jitter), and raises the errors of ``s3files._errors``.
"""

from s3files.connector._connector import SUPPORTED_OPERATIONS, S3Connector, S3ConnectorFactory
from s3files.connector._models import (
    BucketMetadata,
    S3Bucket,
    S3Object,
    S3ObjectPage,
    StorageClass,
)
from s3files.connector._pacing import RateLimiter, RetryPolicy
from s3files.connector._session import CREDENTIAL_KEYS, credentials_from_settings

__all__ = [
    "CREDENTIAL_KEYS",
    "SUPPORTED_OPERATIONS",
    "BucketMetadata",
    "RateLimiter",
    "RetryPolicy",
    "S3Bucket",
    "S3Connector",
    "S3ConnectorFactory",
    "S3Object",
    "S3ObjectPage",
    "StorageClass",
    "credentials_from_settings",
]
