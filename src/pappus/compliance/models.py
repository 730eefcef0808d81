"""Rule-pack versions added by staff (the shipped version 1 of each pack lives in the package)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pappus.db import Base
from pappus.kit.clock import now
from pappus.kit.ids import new_id


class RulePackVersion(Base):
    """One version of a pack, never changed: a correction is a new version."""

    __tablename__ = "compliance_rule_packs"
    __table_args__ = (UniqueConstraint("pack_id", "version"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("rpk"))
    pack_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    definition: Mapped[dict[str, Any]]
    note: Mapped[str] = mapped_column(String(1000), default="")
    created_by: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=now)
