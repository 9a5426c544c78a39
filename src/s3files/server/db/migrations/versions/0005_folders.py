"""Folders: empty folders kept as rows, and the index that serves folder paths by prefix.

Existing rows need nothing: a file's ``folder`` already is its path, and the folders that
hold files are derived from those paths.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_PREFIX_OPS = "varchar_pattern_ops"  # PostgreSQL: LIKE 'prefix/%' served by the b-tree


def upgrade() -> None:
    op.create_index(
        "ix_files_owner_folder",
        "files",
        ["owner", "folder"],
        postgresql_ops={"folder": _PREFIX_OPS},
    )
    op.create_table(
        "folders",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_folders_owner_path",
        "folders",
        ["owner", "path"],
        unique=True,
        postgresql_ops={"path": _PREFIX_OPS},
    )


def downgrade() -> None:
    op.drop_index("ix_folders_owner_path", "folders")
    op.drop_table("folders")
    op.drop_index("ix_files_owner_folder", "files")
