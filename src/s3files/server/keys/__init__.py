"""API keys: created once, shown once, stored as a SHA-256 hash."""
