"""vetting reports decisions appeals

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pappus.db


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('vetting_appeals',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('creator_id', sa.String(length=40), nullable=False),
    sa.Column('report_id', sa.String(length=40), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('resolved_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', pappus.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', pappus.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['creator_id'], ['creator_profiles.id'], name=op.f('fk_vetting_appeals_creator_id_creator_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vetting_appeals'))
    )
    with op.batch_alter_table('vetting_appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vetting_appeals_creator_id'), ['creator_id'], unique=False)
        batch_op.create_index('ix_vetting_appeals_status', ['status', 'created_at'], unique=False)

    op.create_table('vetting_decisions',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('creator_id', sa.String(length=40), nullable=False),
    sa.Column('report_id', sa.String(length=40), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', pappus.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['creator_id'], ['creator_profiles.id'], name=op.f('fk_vetting_decisions_creator_id_creator_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vetting_decisions'))
    )
    with op.batch_alter_table('vetting_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vetting_decisions_creator_id'), ['creator_id'], unique=False)

    op.create_table('vetting_reports',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('creator_id', sa.String(length=40), nullable=False),
    sa.Column('social_account_id', sa.String(length=40), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('red_flags', sa.JSON(), nullable=False),
    sa.Column('components', sa.JSON(), nullable=False),
    sa.Column('authenticity', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', pappus.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['creator_id'], ['creator_profiles.id'], name=op.f('fk_vetting_reports_creator_id_creator_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vetting_reports'))
    )
    with op.batch_alter_table('vetting_reports', schema=None) as batch_op:
        batch_op.create_index('ix_vetting_reports_creator', ['creator_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('vetting_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_vetting_reports_creator')

    op.drop_table('vetting_reports')
    with op.batch_alter_table('vetting_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vetting_decisions_creator_id'))

    op.drop_table('vetting_decisions')
    with op.batch_alter_table('vetting_appeals', schema=None) as batch_op:
        batch_op.drop_index('ix_vetting_appeals_status')
        batch_op.drop_index(batch_op.f('ix_vetting_appeals_creator_id'))

    op.drop_table('vetting_appeals')
