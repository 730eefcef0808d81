"""publication verification

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pappus.db


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verification_status', sa.String(length=16), nullable=False, server_default='unverified'))
        batch_op.add_column(sa.Column('verification', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('social_account_id', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('external_post_id', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('post_status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('last_checked_at', pappus.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('check_failures', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_check_error', sa.String(length=500), nullable=True))
        batch_op.create_index('ix_publications_due', ['verification_status', 'last_checked_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_index('ix_publications_due')
        batch_op.drop_column('last_check_error')
        batch_op.drop_column('check_failures')
        batch_op.drop_column('last_checked_at')
        batch_op.drop_column('post_status')
        batch_op.drop_column('external_post_id')
        batch_op.drop_column('social_account_id')
        batch_op.drop_column('verification')
        batch_op.drop_column('verification_status')

