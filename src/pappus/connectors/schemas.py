"""Request and response bodies of the connectors API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from pappus.connectors.models import SocialAccount

Platform = Literal["sandbox"]


class LinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: Platform


class LinkStarted(BaseModel):
    authorization_url: str
    state: str
    expires_at: datetime


class SocialAccountView(BaseModel):
    """What the creator sees of a linked account; tokens never leave the server."""

    id: str
    platform: str
    external_id: str
    handle: str
    display_name: str
    status: str
    scopes: list[str]
    followers: int
    following: int
    posts: int
    engagement_rate_bp: int | None
    audience: dict[str, Any]
    last_synced_at: datetime | None
    sync_failures: int
    last_sync_error: str | None
    linked_at: datetime

    @classmethod
    def of(cls, account: SocialAccount) -> SocialAccountView:
        return cls(
            id=account.id,
            platform=account.platform,
            external_id=account.external_id,
            handle=account.handle,
            display_name=account.display_name,
            status=account.status,
            scopes=account.scopes.split(),
            followers=account.followers,
            following=account.following,
            posts=account.posts,
            engagement_rate_bp=account.engagement_rate_bp,
            audience=account.audience or {},
            last_synced_at=account.last_synced_at,
            sync_failures=account.sync_failures,
            last_sync_error=account.last_sync_error,
            linked_at=account.created_at,
        )


class FollowerDay(BaseModel):
    date: date
    followers: int


class PublicSocialAccount(BaseModel):
    """What any signed-in user sees of a creator's linked account: the platform's figures,
    and its follower count per day as the platform reported it."""

    platform: str
    handle: str
    display_name: str
    followers: int
    engagement_rate_bp: int | None
    last_synced_at: datetime | None
    linked_at: datetime
    follower_history: list[FollowerDay]
