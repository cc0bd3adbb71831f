"""Perceptual hashes of images, for finding near-duplicates (``shared.phash``).

Null for images catalogued before this revision: ``imgsearch admin verify --repair`` computes
them from the originals.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("images", sa.Column("phash", sa.String(16), nullable=True))
    op.create_index("ix_images_phash", "images", ["phash"])


def downgrade() -> None:
    op.drop_index("ix_images_phash", table_name="images")
    op.drop_column("images", "phash")
