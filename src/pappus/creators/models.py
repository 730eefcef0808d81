"""Creator profiles: the public face brands search, and private details shown only with an order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pappus.db import Base
from pappus.kit.clock import now
from pappus.kit.ids import new_id


class CreatorProfile(Base):
    __tablename__ = "creator_profiles"
    __table_args__ = (
        Index("ix_creator_profiles_followers_id", "followers", "id"),
        # The discovery index catches up on changed profiles by this column.
        Index("ix_creator_profiles_updated_at_id", "updated_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("cr"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    bio: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[list[str]] = mapped_column(default=list)
    regions: Mapped[list[str]] = mapped_column(default=list)
    languages: Mapped[list[str]] = mapped_column(default=list)
    formats: Mapped[list[str]] = mapped_column(default=list)
    primary_platform: Mapped[str | None] = mapped_column(String(32))
    handle: Mapped[str | None] = mapped_column(String(120))
    followers: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    engagement_rate_bp: Mapped[int | None]
    audience_quality_score: Mapped[int | None]
    # From the largest linked social account at its last sync: the audience's gender split,
    # age bands, top regions and interests (shares 0..1), and the topics of recent posts.
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    topics: Mapped[list[str]] = mapped_column(default=list)
    last_active_at: Mapped[datetime | None]  # the creator's latest post on a linked account
    # unvetted | pending | approved | rejected | flagged (the vetting issue fills it)
    vetting_status: Mapped[str] = mapped_column(String(16), default="unvetted")
    # Private until an order exists between the creator and the brand.
    rate_card: Mapped[list[Any]] = mapped_column(default=list)
    contact_email: Mapped[str | None] = mapped_column(String(320))
    # Set when the creator proved they read mail at contact_email (a code sent there); cleared
    # whenever the address changes. Brands see only whether it is set.
    contact_email_verified_at: Mapped[datetime | None]
    # Public: a link to the creator's media kit and a few pieces of their best work.
    media_kit_url: Mapped[str | None] = mapped_column(String(2048))
    content_examples: Mapped[list[Any]] = mapped_column(default=list)
    available: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class Shortlist(Base):
    """A brand's saved list of creators (e.g. candidates for one campaign)."""

    __tablename__ = "shortlists"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("sl"))
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class ShortlistEntry(Base):
    __tablename__ = "shortlist_entries"
    __table_args__ = (UniqueConstraint("shortlist_id", "creator_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("se"))
    shortlist_id: Mapped[str] = mapped_column(ForeignKey("shortlists.id", ondelete="CASCADE"))
    creator_id: Mapped[str] = mapped_column(
        ForeignKey("creator_profiles.id", ondelete="CASCADE"), index=True
    )
    note: Mapped[str] = mapped_column(String(500), default="")
    added_by: Mapped[str | None] = mapped_column(String(40))
    added_at: Mapped[datetime] = mapped_column(default=now)


class SavedSearch(Base):
    """Discovery filters a brand keeps under a name, to run again."""

    __tablename__ = "saved_searches"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("ss"))
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=now)


class ContactVerification(Base):
    """One code sent to a creator's contact address. Only its HMAC is kept; a newer request
    supersedes it, and it dies after its attempts or its lifetime."""

    __tablename__ = "contact_verifications"
    __table_args__ = (
        Index("ix_contact_verifications_creator_created", "creator_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("cv"))
    creator_id: Mapped[str] = mapped_column(ForeignKey("creator_profiles.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16), default="email")
    address: Mapped[str] = mapped_column(String(320))
    code_hash: Mapped[str] = mapped_column(String(64))
    # pending -> verified | superseded | exhausted | expired
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=now)
    verified_at: Mapped[datetime | None]
