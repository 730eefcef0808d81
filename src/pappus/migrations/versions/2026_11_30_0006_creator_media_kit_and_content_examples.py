"""creator media kit and content examples

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pappus.db


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('creator_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_kit_url', sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column('content_examples', sa.JSON(), nullable=False, server_default='[]'))



def downgrade() -> None:
    with op.batch_alter_table('creator_profiles', schema=None) as batch_op:
        batch_op.drop_column('content_examples')
        batch_op.drop_column('media_kit_url')

