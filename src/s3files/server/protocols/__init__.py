"""Upload protocols that existing clients speak: Uppy's Companion S3 routes
(``companion``) and tus 1.0 (``tus``). Both are thin routers over the direct uploads
(``server/uploads/service.py``): the same planning, limits, quotas, verification, records
and cleanup."""
