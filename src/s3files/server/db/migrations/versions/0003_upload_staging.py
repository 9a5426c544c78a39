"""Direct uploads: the staging key a signed form writes to, and the completion lease.

Rows from before have no staging key: their forms were signed for the final key, and
completion verifies that key as before.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("uploads") as table:
        table.add_column(sa.Column("staging_key", sa.String(1024), nullable=True))
        table.add_column(sa.Column("completing_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("uploads") as table:
        table.drop_column("completing_until")
        table.drop_column("staging_key")
