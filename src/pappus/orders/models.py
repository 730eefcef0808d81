"""Orders with their frozen contracts and deadlines, drafts, publications, metrics, disputes
and the append-only event trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pappus.db import Base
from pappus.kit.clock import now
from pappus.kit.ids import new_id


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("campaign_id", "creator_id"),
        UniqueConstraint("source_id"),
        Index("ix_orders_state_review_due_at", "state", "review_due_at"),
        # Keyset pagination of an organization's or a creator's orders, newest first.
        Index("ix_orders_organization_id_id", "organization_id", "id"),
        Index("ix_orders_creator_id_id", "creator_id", "id"),
        Index("ix_orders_state_measurement_ends_at", "state", "measurement_ends_at"),
        Index("ix_orders_state_compliance_fix_due_at", "state", "compliance_fix_due_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("ord"))
    # No index of their own: the unique rule and the indexes above begin with each of these
    # columns and serve their lookups. Every order INSERT, and every UPDATE that changes the
    # state (it moves the row, so each index gets an entry), would write four more.
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    creator_id: Mapped[str] = mapped_column(ForeignKey("creator_profiles.id"))
    source_kind: Mapped[str] = mapped_column(String(16))  # application | invitation
    source_id: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(24))
    # Bumped by every transition; writes check it, so concurrent actions cannot both apply.
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}
    workflow_version: Mapped[int]
    contract: Mapped[dict[str, Any]]
    contract_sha256: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    price_amount: Mapped[int] = mapped_column(BigInteger)
    escrow_amount: Mapped[int] = mapped_column(BigInteger)
    revision_limit: Mapped[int]
    revisions_used: Mapped[int] = mapped_column(default=0)
    draft_due_at: Mapped[datetime | None]
    review_due_at: Mapped[datetime | None]
    # Open while a published post has lost its disclosure label or been taken down: the
    # creator's time to fix it before the order is flagged (workflow: flag_publication).
    compliance_fix_due_at: Mapped[datetime | None]
    # Set when a completed order's post was taken down or unlabelled within the retention
    # period and not fixed in time: the creator's payouts wait until staff release it.
    compliance_hold: Mapped[str | None] = mapped_column(String(500))
    publish_due_at: Mapped[datetime | None]
    measurement_ends_at: Mapped[datetime | None]
    state_before_dispute: Mapped[str | None] = mapped_column(String(24))
    kpi_result: Mapped[dict[str, Any] | None]
    settlement: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class OrderEvent(Base):
    """One row per transition, never updated or deleted; each row chains the previous hash."""

    __tablename__ = "order_events"
    __table_args__ = (UniqueConstraint("order_id", "sequence"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("evt"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))  # the unique rule indexes it
    sequence: Mapped[int]
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)


class Draft(Base):
    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("order_id", "round"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("dft"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    round: Mapped[int]
    title: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    hashtags: Mapped[list[str]] = mapped_column(default=list)
    media_urls: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(24), default="in_review")
    feedback: Mapped[str | None] = mapped_column(Text)
    deemed: Mapped[bool] = mapped_column(default=False)
    submitted_at: Mapped[datetime] = mapped_column(default=now)
    review_due_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(40))
    # The compliance check run on submission (compliance/service.py: packs, findings, counts);
    # a draft with a blocking finding cannot be approved unless staff override it.
    compliance: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # {"by", "reason", "at"} when staff allowed approval despite blocking findings.
    compliance_override: Mapped[dict[str, Any] | None]


class Publication(Base):
    __tablename__ = "publications"
    __table_args__ = (Index("ix_publications_due", "verification_status", "last_checked_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("pub"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), unique=True)
    post_url: Mapped[str] = mapped_column(String(2048))
    platform: Mapped[str] = mapped_column(String(32))
    published_at: Mapped[datetime]
    submitted_at: Mapped[datetime] = mapped_column(default=now)
    # Verification through the platform's connector (orders/publishing.py): verified, or
    # unverified when the platform has no connector and only the brand's review stands.
    verification_status: Mapped[str] = mapped_column(String(16), default="unverified")
    # The checks as run: [{"check", "passed", "detail"}], plus the draft similarity.
    verification: Mapped[dict[str, Any]] = mapped_column(default=dict)
    social_account_id: Mapped[str | None] = mapped_column(String(40))
    external_post_id: Mapped[str | None] = mapped_column(String(200))
    # What the last scheduled read found: live, label_removed or removed.
    post_status: Mapped[str | None] = mapped_column(String(16))
    last_checked_at: Mapped[datetime | None]
    # The contract's post_retention_days after publication: scheduled reads go on until
    # then, after the order completes too.
    watch_until: Mapped[datetime | None]
    check_failures: Mapped[int] = mapped_column(default=0)
    last_check_error: Mapped[str | None] = mapped_column(String(500))


class MetricSnapshot(Base):
    __tablename__ = "metric_snapshots"
    __table_args__ = (UniqueConstraint("order_id", "taken_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("met"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    taken_at: Mapped[datetime]
    views: Mapped[int] = mapped_column(BigInteger, default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    comments: Mapped[int] = mapped_column(BigInteger, default=0)
    saves: Mapped[int] = mapped_column(BigInteger, default=0)
    shares: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    conversions: Mapped[int] = mapped_column(BigInteger, default=0)
    source: Mapped[str] = mapped_column(String(40))
    recorded_by: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=now)

    @classmethod
    def from_connector(
        cls, order_id: str, metrics: Any, taken_at: datetime, at: datetime
    ) -> MetricSnapshot:
        """A reading of the post's totals from its platform (`metrics`: a connector's)."""
        return cls(
            order_id=order_id,
            taken_at=taken_at,
            views=metrics.views,
            likes=metrics.likes,
            comments=metrics.comments,
            saves=metrics.saves,
            shares=metrics.shares,
            source="connector",
            created_at=at,
        )


class Dispute(Base):
    __tablename__ = "disputes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("dsp"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    opened_by_kind: Mapped[str] = mapped_column(String(16))
    opened_by_id: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    state_before: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    resolution: Mapped[str | None] = mapped_column(String(16))
    creator_share_bp: Mapped[int | None]
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(40))
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
