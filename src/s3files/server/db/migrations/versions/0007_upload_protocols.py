"""Upload protocols: Companion upload tokens, tus upload state, and the token an upload
was created with.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_tokens",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("folder", sa.String(1024), nullable=True),
        sa.Column("max_file_size", sa.BigInteger(), nullable=True),
        sa.Column("allowed_types", sa.JSON(), nullable=True),
        sa.Column("max_files", sa.BigInteger(), nullable=True),
        sa.Column("files_used", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_upload_tokens_owner", "upload_tokens", ["owner"])
    op.create_table(
        "tus_uploads",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("upload_length", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("part_size", sa.BigInteger(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("pending_size", sa.BigInteger(), nullable=False),
        sa.Column("raw_metadata", sa.Text(), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("token_id", sa.Uuid(), nullable=True))
        batch.create_index("ix_uploads_token_status", ["token_id", "status"])


def downgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.drop_index("ix_uploads_token_status")
        batch.drop_column("token_id")
    op.drop_table("tus_uploads")
    op.drop_index("ix_upload_tokens_owner", table_name="upload_tokens")
    op.drop_table("upload_tokens")
