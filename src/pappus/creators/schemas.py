"""Creator profile shapes: public (anyone signed in), private (the creator, staff, or a brand
with an order)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictInt

from pappus.creators.taxonomy import FORMATS, Category, ContentFormat

Tier = Literal["nano", "koc", "mid", "head"]


class RateCardEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: ContentFormat
    amount: StrictInt = Field(ge=0, le=10**12, description="Minor units")
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")


class CreatorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, min_length=1, max_length=120)
    bio: str | None = Field(default=None, max_length=2000)
    categories: list[Category] | None = Field(default=None, max_length=5)
    regions: list[str] | None = Field(default=None, max_length=10)
    languages: list[str] | None = Field(default=None, max_length=10)
    formats: list[ContentFormat] | None = Field(default=None, max_length=len(FORMATS))
    primary_platform: str | None = Field(default=None, max_length=32)
    handle: str | None = Field(default=None, max_length=120)
    followers: StrictInt | None = Field(
        default=None, ge=0, le=10**10, description="Until a linked account provides it"
    )
    rate_card: list[RateCardEntry] | None = Field(default=None, max_length=20)
    contact_email: EmailStr | None = None
    available: bool | None = None


class CreatorPublic(BaseModel):
    id: str
    display_name: str
    bio: str
    categories: list[str]
    regions: list[str]
    languages: list[str]
    formats: list[str]
    primary_platform: str | None
    handle: str | None
    followers: int
    tier: Tier | None
    engagement_rate_bp: int | None
    audience_quality_score: int | None
    vetting_status: str
    audience: dict[str, Any] = Field(
        description="From the largest linked account: gender, age_bands, top_regions, "
        "interests (shares 0..1)"
    )
    topics: list[str]
    last_active_at: datetime | None
    available: bool
    created_at: datetime


class CreatorPrivate(CreatorPublic):
    rate_card: list[RateCardEntry]
    contact_email: str | None


class DiscoveryFacets(BaseModel):
    """Counts over everything the filters matched (not only this page)."""

    tier: dict[str, int]
    category: dict[str, int]
    region: dict[str, int]


class DiscoveryPage(BaseModel):
    items: list[CreatorPublic]
    next_cursor: str | None = None
    total: int = Field(description="Creators matching the filters")
    facets: DiscoveryFacets | None = None


Sort = Literal["relevance", "followers", "engagement", "quality", "price", "cpe"]
AgeBand = Literal["13-17", "18-24", "25-34", "35-44", "45+"]
VettingStatus = Literal["unvetted", "pending", "approved", "rejected", "flagged"]
