"""Creator profile shapes: public (anyone signed in), private (the creator, staff, or a brand
with an order)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, EmailStr, Field, StrictInt

from pappus.creators.taxonomy import FORMATS, Category, ContentFormat

Tier = Literal["nano", "koc", "mid", "head"]


class RateCardEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: ContentFormat
    amount: StrictInt = Field(ge=0, le=10**12, description="Minor units")
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")


class ContentExample(BaseModel):
    """A piece of the creator's work they want brands to see."""

    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl
    title: str = Field(default="", max_length=200)
    format: ContentFormat | None = None
    platform: str | None = Field(default=None, min_length=1, max_length=32)


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
        default=None,
        ge=0,
        le=10**10,
        description="Only until a linked account provides it; refused once one is linked",
    )
    media_kit_url: AnyHttpUrl | None = None
    content_examples: list[ContentExample] | None = Field(default=None, max_length=12)
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
    media_kit_url: str | None = None
    content_examples: list[ContentExample] = Field(default_factory=list)
    available: bool
    contact_verified: bool = Field(
        description="The creator proved they read mail at their contact address "
        "(the address itself is shown only with an order)"
    )
    created_at: datetime


class CreatorPrivate(CreatorPublic):
    rate_card: list[RateCardEntry]
    contact_email: str | None
    contact_email_verified_at: datetime | None


class ContactVerificationOut(BaseModel):
    """A code is on its way to the contact address (shown masked)."""

    id: str
    channel: Literal["email"]
    address: str = Field(description="The address the code went to, masked: l***@example.com")
    expires_at: datetime
    attempts_left: int
    resend_after: datetime = Field(description="The earliest moment a new code can be asked for")


class ContactCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^\s*\d{6}\s*$", description="The 6 digits from the message")


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


class DiscoveryFilters(BaseModel):
    """What a discovery search asks for (also what a saved search keeps)."""

    # As query parameters other parameters (limit, cursor) sit beside these: not forbidden.
    model_config = ConfigDict(extra="ignore")

    q: str | None = Field(
        default=None, max_length=100, description="Words over name, handle, bio and topics"
    )
    platform: str | None = Field(default=None, max_length=32)
    tier: list[Tier] | None = Field(default=None, max_length=4, description="Any of")
    min_followers: int | None = Field(default=None, ge=0, le=10**12)
    max_followers: int | None = Field(default=None, ge=0, le=10**12)
    min_engagement_bp: int | None = Field(default=None, ge=0, le=10_000)
    max_engagement_bp: int | None = Field(default=None, ge=0, le=10_000)
    category: list[Category] | None = Field(default=None, max_length=16, description="Any of")
    region: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=20, description="Any of"
    )
    language: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=20, description="Any of"
    )
    audience_female_min: float | None = Field(default=None, ge=0, le=1)
    audience_female_max: float | None = Field(default=None, ge=0, le=1)
    audience_age: AgeBand | None = None
    audience_age_min: float | None = Field(default=None, ge=0, le=1)
    audience_region: str | None = Field(default=None, min_length=1, max_length=64)
    audience_region_min: float | None = Field(default=None, ge=0, le=1)
    price_format: ContentFormat | None = None
    min_price: int | None = Field(default=None, ge=0, le=10**12)
    max_price: int | None = Field(default=None, ge=0, le=10**12)
    min_quality: int | None = Field(default=None, ge=0, le=100)
    vetting_status: list[VettingStatus] | None = Field(default=None, max_length=5)
    active_within_days: int | None = Field(default=None, ge=1, le=3650)
    not_worked_with: bool = Field(
        default=False, description="Leave out creators your organizations have had orders with"
    )
    available: bool | None = None
    contact_verified: bool | None = Field(
        default=None, description="Only creators whose contact email is (or is not) verified"
    )
    sort: Sort = Field(
        default="relevance",
        description="relevance (with q; otherwise followers), followers, engagement, quality: "
        "highest first; price, cpe (price / expected engagements, for price_format or "
        "image_post): lowest first",
    )


class SavedFilters(DiscoveryFilters):
    model_config = ConfigDict(extra="forbid")


class ShortlistCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization_id: str | None = Field(default=None, max_length=64)
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)


class ShortlistUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=2000)


class Shortlist(BaseModel):
    id: str
    organization_id: str
    name: str
    description: str
    creators: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class ShortlistEntryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=500)


class ShortlistEntry(BaseModel):
    creator: CreatorPublic
    note: str
    added_by: str | None
    added_at: datetime


class SavedSearchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization_id: str | None = Field(default=None, max_length=64)
    name: str = Field(min_length=1, max_length=120)
    filters: SavedFilters


class SavedSearch(BaseModel):
    id: str
    organization_id: str
    name: str
    filters: dict[str, Any]
    created_by: str | None
    created_at: datetime
