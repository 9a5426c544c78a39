"""tus 1.0 at ``/api/v1/tus/``: core, creation, creation-with-upload, termination,
expiration and checksum (sha1, sha256)."""
