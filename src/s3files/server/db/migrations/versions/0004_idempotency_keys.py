"""Files remember the ``Idempotency-Key`` of the upload that stored them (unique per owner),
so that a client's retry stores nothing twice. Rows from before have none.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("files") as table:
        table.add_column(sa.Column("idempotency_key", sa.String(255), nullable=True))
    # NULLs are distinct in a unique index (PostgreSQL and SQLite): files without a key
    # never collide
    op.create_index(
        "ux_files_owner_idempotency_key", "files", ["owner", "idempotency_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ux_files_owner_idempotency_key", table_name="files")
    with op.batch_alter_table("files") as table:
        table.drop_column("idempotency_key")
