"""Linked social accounts, the OAuth states of links in progress, and follower history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pappus.db import Base
from pappus.kit.clock import now
from pappus.kit.ids import new_id


class SocialAccount(Base):
    """A creator's account on a social platform, linked by OAuth. The tokens are encrypted
    at rest (AES-GCM, the row id as associated data); Pappus never sees a password."""

    __tablename__ = "social_accounts"
    __table_args__ = (
        # One platform account belongs to one Pappus creator.
        UniqueConstraint("platform", "external_id"),
        Index("ix_social_accounts_due", "status", "last_synced_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("sa"))
    creator_id: Mapped[str] = mapped_column(
        ForeignKey("creator_profiles.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(120))
    handle: Mapped[str] = mapped_column(String(120))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    scopes: Mapped[str] = mapped_column(String(200), default="")
    access_token_encrypted: Mapped[str | None] = mapped_column(Text)
    refresh_token_encrypted: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None]
    # active | needs_relink (the platform refused our tokens) | unlinked
    status: Mapped[str] = mapped_column(String(16), default="active")
    followers: Mapped[int] = mapped_column(BigInteger, default=0)
    following: Mapped[int] = mapped_column(BigInteger, default=0)
    posts: Mapped[int] = mapped_column(default=0)
    engagement_rate_bp: Mapped[int | None]
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    profile: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_synced_at: Mapped[datetime | None]
    sync_failures: Mapped[int] = mapped_column(default=0)
    last_sync_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class OAuthState(Base):
    """A link in progress: the `state` sent to the platform, the PKCE verifier, and who asked.
    Used once, within its lifetime."""

    __tablename__ = "oauth_states"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    creator_id: Mapped[str] = mapped_column(
        ForeignKey("creator_profiles.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(32))
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)


class FollowerCount(Base):
    """A social account's follower count on one day, as the platform reported it."""

    __tablename__ = "social_follower_counts"
    __table_args__ = (UniqueConstraint("social_account_id", "day"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("fc"))
    social_account_id: Mapped[str] = mapped_column(
        ForeignKey("social_accounts.id", ondelete="CASCADE")
    )
    day: Mapped[date]
    followers: Mapped[int] = mapped_column(BigInteger)
