"""Campaign briefs, applications from creators and invitations from brands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pappus.db import Base
from pappus.kit.clock import now
from pappus.kit.ids import new_id


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_status_visibility_id", "status", "visibility", "id"),
        Index("ix_campaigns_organization_id_id", "organization_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("cmp"))
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    objective: Mapped[str] = mapped_column(String(32))
    campaign_type: Mapped[str] = mapped_column(String(32))
    product: Mapped[dict[str, Any]] = mapped_column(default=dict)
    key_messages: Mapped[list[str]] = mapped_column(default=list)
    dos: Mapped[list[str]] = mapped_column(default=list)
    donts: Mapped[list[str]] = mapped_column(default=list)
    formats: Mapped[list[str]] = mapped_column(default=list)
    platforms: Mapped[list[str]] = mapped_column(default=list)
    categories: Mapped[list[str]] = mapped_column(default=list)
    target_audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    creator_criteria: Mapped[dict[str, Any]] = mapped_column(default=dict)
    currency: Mapped[str] = mapped_column(String(3))
    budget_amount: Mapped[int] = mapped_column(BigInteger)
    compensation_model: Mapped[str] = mapped_column(String(32))
    compensation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    kpis: Mapped[list[Any]] = mapped_column(default=list)
    timeline: Mapped[dict[str, Any]] = mapped_column(default=dict)
    usage_rights: Mapped[dict[str, Any]] = mapped_column(default=dict)
    applications_close_at: Mapped[datetime | None]
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("campaign_id", "creator_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("app"))
    # indexed by the unique rule, which begins with it
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    creator_id: Mapped[str] = mapped_column(
        ForeignKey("creator_profiles.id", ondelete="CASCADE"), index=True
    )
    proposal: Mapped[str] = mapped_column(Text)
    quote_amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    deliverables: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)


class Invitation(Base):
    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("campaign_id", "creator_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("inv"))
    # indexed by the unique rule, which begins with it
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    creator_id: Mapped[str] = mapped_column(
        ForeignKey("creator_profiles.id", ondelete="CASCADE"), index=True
    )
    message: Mapped[str] = mapped_column(Text, default="")
    offer_amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    deliverables: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    expires_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)
