"""drop indexes that others cover

Each of these indexes one column that a unique rule or a wider index of the same table
already begins with, so every lookup it served, the wider one serves. The order path writes
them all: an order INSERT, and every UPDATE that changes an order's state (the row moves,
so each of its indexes gets an entry), wrote four of them for nothing.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 21:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column): each index is ix_{table}_{column}, covered by the index or rule named
COVERED = [
    ("orders", "campaign_id"),  # uq_orders_campaign_id_creator_id
    ("orders", "organization_id"),  # ix_orders_organization_id_id
    ("orders", "creator_id"),  # ix_orders_creator_id_id
    ("orders", "state"),  # ix_orders_state_review_due_at and two more
    ("order_events", "order_id"),  # uq_order_events_order_id_sequence
    ("applications", "campaign_id"),  # uq_applications_campaign_id_creator_id
    ("invitations", "campaign_id"),  # uq_invitations_campaign_id_creator_id
]


def upgrade() -> None:
    for table, column in COVERED:
        op.drop_index(f"ix_{table}_{column}", table_name=table)


def downgrade() -> None:
    for table, column in COVERED:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)
