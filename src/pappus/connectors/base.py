"""What Pappus reads from a social platform, and the interface every connector implements.

A connector speaks the platform's OAuth 2.0 authorization-code flow and reads the linked
account's profile, audience, follower history and sample, posts with their metrics over time,
and comments. Everything it returns is validated here: a platform that answers something
malformed raises `ConnectorError`, never half a record.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class ConnectorError(Exception):
    """A platform call failed. `retryable`: a timeout, a 5xx or a rate limit (try again
    later); otherwise the request itself is wrong (a revoked token, an unknown post)."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TokenSet(Strict):
    access_token: str = Field(min_length=1)
    refresh_token: str | None = None
    expires_in: int = Field(ge=1)
    scope: str = ""
    open_id: str = Field(min_length=1, max_length=120)


class Profile(Strict):
    open_id: str = Field(min_length=1, max_length=120)
    handle: str = Field(min_length=1, max_length=120)
    display_name: str = Field(max_length=200)
    bio: str = Field(default="", max_length=5000)
    language: str | None = None
    region: str | None = None
    categories: list[str] = []
    followers: int = Field(ge=0)
    following: int = Field(ge=0)
    posts: int = Field(ge=0)
    has_external_url: bool = False
    as_of: datetime


class Audience(Strict):
    gender: dict[str, float]
    age_bands: dict[str, float]
    top_regions: dict[str, float]
    interests: dict[str, float] = {}


class HistoryPoint(Strict):
    date: date
    followers: int = Field(ge=0)


class FollowerProfile(Strict):
    """The fields the vetting classifier reads (issue 5)."""

    username: str
    followers: int = Field(ge=0)
    following: int = Field(ge=0)
    posts: int = Field(ge=0)
    has_profile_pic: bool
    is_private: bool
    bio_length: int = Field(ge=0)
    full_name: str | None = None
    has_external_url: bool = False


class Metrics(Strict):
    at: datetime
    views: int = Field(ge=0)
    likes: int = Field(ge=0)
    saves: int = Field(ge=0)
    comments: int = Field(ge=0)
    shares: int = Field(ge=0)

    @property
    def engagements(self) -> int:
        return self.likes + self.saves + self.comments + self.shares


class PlatformPost(Strict):
    id: str = Field(min_length=1, max_length=200)
    author_open_id: str
    title: str = ""
    text: str = ""
    hashtags: list[str] = []
    format: str | None = None
    published_at: datetime
    partnership_label: bool = False
    metrics: Metrics


class PostPage(Strict):
    posts: list[PlatformPost]
    next_cursor: str | None = None


class PlatformComment(Strict):
    id: str
    author: str
    text: str
    created_at: datetime


class Connector(Protocol):
    platform: str

    def authorization_url(self, *, state: str, redirect_uri: str, code_challenge: str) -> str: ...

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenSet: ...

    def refresh(self, refresh_token: str) -> TokenSet: ...

    def profile(self, access_token: str) -> Profile: ...

    def audience(self, access_token: str) -> Audience: ...

    def follower_history(self, access_token: str) -> list[HistoryPoint]: ...

    def follower_sample(self, access_token: str, size: int) -> list[FollowerProfile]: ...

    def posts(self, access_token: str, cursor: str | None = None, limit: int = 20) -> PostPage: ...

    def post(self, access_token: str, post_id: str) -> PlatformPost: ...

    def post_id_from_url(self, url: str) -> str | None:
        """The platform's id of the post a public URL points to, or None if it is not a post
        URL of this platform."""
        ...

    def post_metrics(self, access_token: str, post_id: str) -> list[Metrics]: ...

    def comments(
        self, access_token: str, post_id: str, limit: int = 50
    ) -> list[PlatformComment]: ...
