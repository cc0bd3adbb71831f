"""Compliance decisions: every check's outcome for an image, and every admin's release or delete.

No foreign key to ``images``: a rejected image never has a row, and the history outlives a
deleted image. A quarantined image is an ``images`` row with ``state = 'quarantined'`` (no
schema change).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "compliance_decisions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("image_id", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.Column("check", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_compliance_decisions_image_id", "compliance_decisions", ["image_id"])


def downgrade() -> None:
    op.drop_index("ix_compliance_decisions_image_id", table_name="compliance_decisions")
    op.drop_table("compliance_decisions")
