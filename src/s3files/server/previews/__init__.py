"""Thumbnails of stored files: rendered on first request, cached as derived objects."""
