"""Stores: one protocol (``Store``), an S3 implementation and a local-disk implementation."""

from s3files.stores.base import ObjectWriter, Store
from s3files.stores.local import LocalStore
from s3files.stores.s3 import S3Store

__all__ = ["LocalStore", "ObjectWriter", "S3Store", "Store"]
