"""The metadata database: models, sessions and Alembic migrations shipped in the package."""
