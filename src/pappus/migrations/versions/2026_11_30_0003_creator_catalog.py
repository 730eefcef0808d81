"""creator catalog: audience, topics, activity and vetting status for discovery

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pappus.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("creator_profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audience", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("topics", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(
            sa.Column("last_active_at", pappus.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "vetting_status", sa.String(length=16), nullable=False, server_default="unvetted"
            )
        )
        batch_op.create_index("ix_creator_profiles_updated_at_id", ["updated_at", "id"])


def downgrade() -> None:
    with op.batch_alter_table("creator_profiles", schema=None) as batch_op:
        batch_op.drop_index("ix_creator_profiles_updated_at_id")
        batch_op.drop_column("vetting_status")
        batch_op.drop_column("last_active_at")
        batch_op.drop_column("topics")
        batch_op.drop_column("audience")
