"""compliance rule packs, draft checks and the publication fix window

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pappus.db


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('compliance_rule_packs',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('pack_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', pappus.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compliance_rule_packs')),
    sa.UniqueConstraint('pack_id', 'version', name=op.f('uq_compliance_rule_packs_pack_id_version'))
    )
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('compliance', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('compliance_override', sa.JSON(), nullable=True))

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('compliance_fix_due_at', pappus.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('compliance_hold', sa.String(length=500), nullable=True))
        batch_op.create_index('ix_orders_state_compliance_fix_due_at', ['state', 'compliance_fix_due_at'], unique=False)

    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('watch_until', pappus.db.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_column('watch_until')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_state_compliance_fix_due_at')
        batch_op.drop_column('compliance_hold')
        batch_op.drop_column('compliance_fix_due_at')

    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.drop_column('compliance_override')
        batch_op.drop_column('compliance')

    op.drop_table('compliance_rule_packs')
