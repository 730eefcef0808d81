"""Escrow instructions: the order workflow's money intents, one per order and kind.

The double-entry ledger (issue #3) posts these; until then they are the durable, unique
record of what the workflow asked the ledger to do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pappus.db import Base
from pappus.kit.clock import now
from pappus.kit.ids import new_id


class EscrowInstruction(Base):
    __tablename__ = "escrow_instructions"
    __table_args__ = (UniqueConstraint("order_id", "kind"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("esc"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    creator_id: Mapped[str] = mapped_column(ForeignKey("creator_profiles.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # hold | settle
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    legs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="recorded")
    created_at: Mapped[datetime] = mapped_column(default=now)
