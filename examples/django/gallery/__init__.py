"""The example's one app: pick a file, upload it straight to the bucket, see it listed."""
