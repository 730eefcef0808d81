"""Campaign brief, application and invitation shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationInfo,
    field_validator,
)

from pappus.creators.taxonomy import CATEGORIES, FORMATS, Category, ContentFormat
from pappus.kit.clock import UtcDatetime
from pappus.kit.money import CURRENCIES

Objective = Literal["awareness", "education", "conversion"]
CampaignType = Literal["product_seeding", "branded_content", "live_streaming", "ambassador"]
CompensationModel = Literal["fixed_fee", "fixed_plus_bonus", "product_only", "commission"]
Visibility = Literal["public", "invite_only"]
CampaignStatus = Literal["draft", "open", "closed", "cancelled", "completed"]
Gender = Literal["female", "male", "other"]
AgeBand = Literal["13-17", "18-24", "25-34", "35-44", "45-54", "55+"]
Tier = Literal["nano", "koc", "mid", "head"]
KpiMetric = Literal[
    "views", "likes", "comments", "saves", "shares", "clicks", "conversions", "engagements"
]

MAX_AMOUNT = 10**12  # minor units; far beyond any campaign, small enough for every backend

ShortText = Field(min_length=1, max_length=500)


class Product(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    url: AnyHttpUrl | None = None
    value_amount: StrictInt | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    ships_physical_product: bool = False


class TargetAudience(BaseModel):
    model_config = ConfigDict(extra="forbid")

    genders: list[Gender] = Field(default_factory=list, max_length=3)
    age_bands: list[AgeBand] = Field(default_factory=list, max_length=6)
    regions: list[str] = Field(default_factory=list, max_length=50)
    interests: list[str] = Field(default_factory=list, max_length=50)


class CreatorCriteria(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tiers: list[Tier] = Field(default_factory=list, max_length=4)
    categories: list[Category] = Field(default_factory=list, max_length=len(CATEGORIES))
    min_followers: StrictInt | None = Field(default=None, ge=0)
    min_engagement_rate_bp: StrictInt | None = Field(default=None, ge=0, le=10_000)
    min_audience_quality: StrictInt | None = Field(default=None, ge=0, le=100)


class Compensation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fixed_fee_amount: StrictInt | None = Field(
        default=None, ge=0, le=MAX_AMOUNT, description="Suggested fee per creator, minor units"
    )
    bonus_cap_amount: StrictInt = Field(
        default=0, ge=0, le=MAX_AMOUNT, description="Most a creator can earn on top, by KPIs"
    )
    commission_rate_bp: StrictInt | None = Field(default=None, ge=0, le=10_000)


class Kpi(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: KpiMetric
    target: StrictInt = Field(ge=1, le=10**12)


class Timeline(BaseModel):
    model_config = ConfigDict(extra="forbid")

    draft_due_days: StrictInt | None = Field(default=None, ge=1, le=120)
    review_days: StrictInt | None = Field(default=None, ge=1, le=30)
    publish_due_days: StrictInt | None = Field(default=None, ge=1, le=60)
    measurement_days: StrictInt | None = Field(default=None, ge=1, le=90)
    post_retention_days: StrictInt = Field(default=30, ge=0, le=3650)
    revision_limit: StrictInt | None = Field(default=None, ge=0, le=10)


class UsageRights(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organic_repost: bool = True
    paid_ads: bool = False
    duration_days: StrictInt = Field(default=90, ge=0, le=3650)
    channels: list[str] = Field(default_factory=list, max_length=20)


class _BriefFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("currency", check_fields=False)
    @classmethod
    def _known_currency(cls, value: str | None) -> str | None:
        if value is not None and value not in CURRENCIES:
            raise ValueError(f"unsupported currency; use one of {sorted(CURRENCIES)}")
        return value


class CampaignCreate(_BriefFields):
    organization_id: str | None = Field(
        default=None, description="Needed only when you belong to several organizations"
    )
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    objective: Objective
    campaign_type: CampaignType
    visibility: Visibility = "public"
    product: Product
    key_messages: list[str] = Field(default_factory=list, max_length=20)
    dos: list[str] = Field(default_factory=list, max_length=30)
    donts: list[str] = Field(default_factory=list, max_length=30)
    formats: list[ContentFormat] = Field(min_length=1, max_length=len(FORMATS))
    platforms: list[str] = Field(default_factory=lambda: ["xiaohongshu"], max_length=10)
    categories: list[Category] = Field(default_factory=list, max_length=5)
    target_audience: TargetAudience = Field(default_factory=TargetAudience)
    creator_criteria: CreatorCriteria = Field(default_factory=CreatorCriteria)
    currency: str = Field(default="CNY", min_length=3, max_length=3)
    budget_amount: StrictInt = Field(ge=0, le=MAX_AMOUNT, description="Minor units")
    compensation_model: CompensationModel = "fixed_fee"
    compensation: Compensation = Field(default_factory=Compensation, validate_default=True)
    kpis: list[Kpi] = Field(default_factory=list, max_length=10, validate_default=True)
    timeline: Timeline = Field(default_factory=Timeline)
    usage_rights: UsageRights = Field(default_factory=UsageRights)
    applications_close_at: UtcDatetime | None = None
    starts_at: UtcDatetime | None = None
    ends_at: UtcDatetime | None = None

    @field_validator("compensation")
    @classmethod
    def _compensation_fits_model(cls, value: Compensation, info: ValidationInfo) -> Compensation:
        model = info.data.get("compensation_model")
        if model == "fixed_plus_bonus" and value.bonus_cap_amount <= 0:
            raise ValueError("fixed_plus_bonus needs compensation.bonus_cap_amount > 0")
        if model == "commission" and value.commission_rate_bp is None:
            raise ValueError("commission needs compensation.commission_rate_bp")
        if model is not None and model != "fixed_plus_bonus" and value.bonus_cap_amount:
            raise ValueError("only fixed_plus_bonus campaigns pay a bonus")
        return value

    @field_validator("kpis")
    @classmethod
    def _bonus_needs_kpis(cls, value: list[Kpi], info: ValidationInfo) -> list[Kpi]:
        if info.data.get("compensation_model") == "fixed_plus_bonus" and not value:
            raise ValueError("fixed_plus_bonus needs kpis to pay the bonus against")
        return value

    @field_validator("applications_close_at", "starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamps need a time zone (e.g. 2026-01-01T00:00:00Z)")
        return value

    @field_validator("ends_at")
    @classmethod
    def _ends_after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        starts = info.data.get("starts_at")
        if value is not None and starts is not None and value <= starts:
            raise ValueError("ends_at must be after starts_at")
        return value


class CampaignUpdate(_BriefFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    objective: Objective | None = None
    campaign_type: CampaignType | None = None
    visibility: Visibility | None = None
    product: Product | None = None
    key_messages: list[str] | None = Field(default=None, max_length=20)
    dos: list[str] | None = Field(default=None, max_length=30)
    donts: list[str] | None = Field(default=None, max_length=30)
    formats: list[ContentFormat] | None = Field(default=None, min_length=1)
    platforms: list[str] | None = Field(default=None, max_length=10)
    categories: list[Category] | None = Field(default=None, max_length=5)
    target_audience: TargetAudience | None = None
    creator_criteria: CreatorCriteria | None = None
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    budget_amount: StrictInt | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    compensation_model: CompensationModel | None = None
    compensation: Compensation | None = None
    kpis: list[Kpi] | None = Field(default=None, max_length=10)
    timeline: Timeline | None = None
    usage_rights: UsageRights | None = None
    applications_close_at: UtcDatetime | None = None
    starts_at: UtcDatetime | None = None
    ends_at: UtcDatetime | None = None


class Campaign(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organization_id: str
    name: str
    description: str
    status: CampaignStatus
    visibility: Visibility
    objective: str
    campaign_type: str
    product: Product
    key_messages: list[str]
    dos: list[str]
    donts: list[str]
    formats: list[str]
    platforms: list[str]
    categories: list[str]
    target_audience: TargetAudience
    creator_criteria: CreatorCriteria
    currency: str
    budget_amount: int
    committed_amount: StrictInt = Field(
        default=0, description="Escrow held by this campaign's orders"
    )
    compensation_model: str
    compensation: Compensation
    kpis: list[Kpi]
    timeline: Timeline
    usage_rights: UsageRights
    applications_close_at: datetime | None
    starts_at: datetime | None
    ends_at: datetime | None
    created_at: datetime
    updated_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    completed_at: datetime | None


class MarketplaceCampaign(BaseModel):
    """What a creator sees of an open campaign: the brief, not the brand's budget."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    organization_id: str
    brand_name: str
    name: str
    description: str
    objective: str
    campaign_type: str
    product: Product
    key_messages: list[str]
    dos: list[str]
    donts: list[str]
    formats: list[str]
    platforms: list[str]
    categories: list[str]
    target_audience: TargetAudience
    creator_criteria: CreatorCriteria
    currency: str
    compensation_model: str
    compensation: Compensation
    kpis: list[Kpi]
    timeline: Timeline
    usage_rights: UsageRights
    applications_close_at: datetime | None
    starts_at: datetime | None
    ends_at: datetime | None
    opened_at: datetime | None
    already_applied: bool = False


class Deliverable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: ContentFormat
    quantity: StrictInt = Field(default=1, ge=1, le=20)
    platform: str = Field(default="xiaohongshu", min_length=1, max_length=32)


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    proposal: str = Field(min_length=1, max_length=5000)
    quote_amount: StrictInt = Field(ge=1, le=MAX_AMOUNT, description="Minor units")
    currency: str = Field(min_length=3, max_length=3)
    deliverables: list[Deliverable] = Field(default_factory=list, max_length=10)


class Application(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    campaign_id: str
    creator_id: str
    proposal: str
    quote_amount: int
    currency: str
    deliverables: list[Deliverable]
    status: str
    expires_at: datetime
    decided_at: datetime | None
    decision_note: str | None
    created_at: datetime
    order_id: str | None = None


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000)


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    creator_id: str = Field(min_length=1, max_length=40)
    message: str = Field(default="", max_length=5000)
    offer_amount: StrictInt = Field(ge=1, le=MAX_AMOUNT, description="Minor units")
    deliverables: list[Deliverable] = Field(default_factory=list, max_length=10)
    expires_in_days: StrictInt | None = Field(default=None, ge=1, le=60)


class Invitation(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    campaign_id: str
    creator_id: str
    message: str
    offer_amount: int
    currency: str
    deliverables: list[Deliverable]
    status: str
    expires_at: datetime
    decided_at: datetime | None
    decision_note: str | None
    created_at: datetime
    order_id: str | None = None
