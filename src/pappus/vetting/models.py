"""Vetting reports (a creator's audience-quality score with its evidence), staff decisions
and creators' appeals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pappus.db import Base
from pappus.kit.clock import now
from pappus.kit.ids import new_id


class VettingReport(Base):
    """One scoring of a creator's linked account: never changed, a new one supersedes it."""

    __tablename__ = "vetting_reports"
    __table_args__ = (Index("ix_vetting_reports_creator", "creator_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("vr"))
    creator_id: Mapped[str] = mapped_column(ForeignKey("creator_profiles.id", ondelete="CASCADE"))
    social_account_id: Mapped[str | None] = mapped_column(String(40))
    score: Mapped[int | None]
    flagged: Mapped[bool] = mapped_column(default=False)
    red_flags: Mapped[list[str]] = mapped_column(default=list)
    components: Mapped[list[Any]] = mapped_column(default=list)
    authenticity: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=now)


class VettingDecision(Base):
    """A staff decision on a creator (approve, reject, flag), with its reason: the audit trail
    of the review queue."""

    __tablename__ = "vetting_decisions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("vd"))
    creator_id: Mapped[str] = mapped_column(
        ForeignKey("creator_profiles.id", ondelete="CASCADE"), index=True
    )
    report_id: Mapped[str | None] = mapped_column(String(40))
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    # staff id, or None when the system flagged the creator (a large drop in score)
    decided_by: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=now)


class VettingAppeal(Base):
    """A creator's appeal against their score or a decision; staff uphold or dismiss it."""

    __tablename__ = "vetting_appeals"
    __table_args__ = (Index("ix_vetting_appeals_status", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("va"))
    creator_id: Mapped[str] = mapped_column(
        ForeignKey("creator_profiles.id", ondelete="CASCADE"), index=True
    )
    report_id: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|upheld|dismissed
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=now)
    resolved_at: Mapped[datetime | None]
