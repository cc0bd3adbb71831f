"""Variants: transformations of an image, rendered by the worker, deleted with their image.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "variants",
        sa.Column("variant_id", sa.String(64), primary_key=True),
        sa.Column(
            "image_id",
            sa.String(64),
            sa.ForeignKey("images.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("mime", sa.String(64), nullable=True),
        sa.Column("width", sa.BigInteger, nullable=True),
        sa.Column("height", sa.BigInteger, nullable=True),
        sa.Column("bytes", sa.BigInteger, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_variants_image_id", "variants", ["image_id"])


def downgrade() -> None:
    op.drop_table("variants")
