"""Order, draft, publication, metric, event and dispute shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pappus.kit.clock import UtcDatetime

BIG = 10**13


class AllowedAction(BaseModel):
    action: str
    method: str
    path: str
    description: str
    to_state: str


class Deadlines(BaseModel):
    draft_due_at: datetime | None
    review_due_at: datetime | None
    publish_due_at: datetime | None
    measurement_ends_at: datetime | None
    compliance_fix_due_at: datetime | None = Field(
        default=None,
        description="Open while the published post has lost its disclosure label or been taken"
        " down: the creator's deadline to fix it before the payout is held",
    )


class Order(BaseModel):
    id: str
    campaign_id: str
    organization_id: str
    creator_id: str
    source_kind: str
    source_id: str
    state: str
    workflow_version: int
    version: int
    currency: str
    price_amount: int
    escrow_amount: int
    revision_limit: int
    revisions_used: int
    deadlines: Deadlines
    contract: dict[str, Any]
    contract_sha256: str
    allowed_actions: list[AllowedAction]
    your_role: list[str] = Field(description="How the caller takes part: brand, creator, staff")
    open_dispute_id: str | None = None
    compliance_hold: str | None = Field(
        default=None,
        description="Why the creator's payouts are held (a post taken down or unlabelled within"
        " the retention period); staff release it",
    )
    kpi_result: dict[str, Any] | None
    settlement: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None


class OrderSummary(BaseModel):
    id: str
    campaign_id: str
    campaign_name: str
    organization_id: str
    creator_id: str
    state: str
    currency: str
    price_amount: int
    escrow_amount: int
    deadlines: Deadlines
    created_at: datetime
    updated_at: datetime


class DraftCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(default="", max_length=300)
    body: str = Field(min_length=1, max_length=20_000)
    hashtags: list[str] = Field(default_factory=list, max_length=50)
    media_urls: list[AnyHttpUrl] = Field(default_factory=list, max_length=30)


class Draft(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    round: int
    title: str
    body: str
    hashtags: list[str]
    media_urls: list[str]
    status: str
    feedback: str | None
    deemed: bool
    submitted_at: datetime
    review_due_at: datetime | None
    reviewed_at: datetime | None
    compliance: dict[str, Any] = Field(
        description="The automatic compliance check of this draft: packs used, findings "
        "(span, rule, legal reference, suggested fix), blocking and warning counts"
    )
    compliance_override: dict[str, Any] | None = Field(
        description="Staff's decision to allow approval despite blocking findings: by, reason, at"
    )


class HoldRelease(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=10, max_length=2000)


class ChangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feedback: str = Field(min_length=1, max_length=5000)


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=5000)


class PublicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    post_url: AnyHttpUrl
    platform: str | None = Field(default=None, min_length=1, max_length=32)
    published_at: UtcDatetime | None = None

    @model_validator(mode="after")
    def _aware(self) -> PublicationCreate:
        if self.published_at is not None and self.published_at.tzinfo is None:
            raise ValueError("published_at needs a time zone")
        return self


class Publication(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    post_url: str
    platform: str
    published_at: datetime
    submitted_at: datetime
    verification_status: str = Field(
        description="verified (checked through the platform's connector) or unverified (the"
        " platform has no connector; the brand's review is the only check)"
    )
    verification: dict[str, Any] = Field(
        description="the checks as run: checks [{check, passed, detail}], draft_round"
    )
    external_post_id: str | None
    post_status: str | None = Field(
        description="what the last scheduled read found: live, label_removed or removed"
    )
    last_checked_at: datetime | None


class MetricSnapshotCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    taken_at: UtcDatetime
    views: StrictInt = Field(default=0, ge=0, le=BIG)
    likes: StrictInt = Field(default=0, ge=0, le=BIG)
    comments: StrictInt = Field(default=0, ge=0, le=BIG)
    saves: StrictInt = Field(default=0, ge=0, le=BIG)
    shares: StrictInt = Field(default=0, ge=0, le=BIG)
    clicks: StrictInt = Field(default=0, ge=0, le=BIG)
    conversions: StrictInt = Field(default=0, ge=0, le=BIG)

    @model_validator(mode="after")
    def _aware(self) -> MetricSnapshotCreate:
        if self.taken_at.tzinfo is None:
            raise ValueError("taken_at needs a time zone")
        return self


class MetricSnapshotBatchItem(MetricSnapshotCreate):
    order_id: str = Field(min_length=1, max_length=40)


class MetricSnapshotBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    snapshots: list[MetricSnapshotBatchItem] = Field(min_length=1, max_length=5_000)


class BatchItemResult(BaseModel):
    index: int
    order_id: str
    status: str = Field(description="created, duplicate, or rejected")
    id: str | None = None
    code: str | None = None
    detail: str | None = None


class MetricSnapshotBatchResult(BaseModel):
    created: int
    duplicates: int
    rejected: int
    results: list[BatchItemResult]


class MetricSnapshot(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    taken_at: datetime
    views: int
    likes: int
    comments: int
    saves: int
    shares: int
    clicks: int
    conversions: int
    source: str
    created_at: datetime


class OrderEvent(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    sequence: int
    action: str
    from_state: str | None
    to_state: str
    actor_kind: str
    actor_id: str | None
    data: dict[str, Any]
    prev_hash: str
    hash: str
    created_at: datetime


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class DisputeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=5000)


class DisputeResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: Literal["release", "refund", "split"]
    creator_share_bp: StrictInt | None = Field(
        default=None,
        ge=0,
        le=10_000,
        validate_default=True,
        description="For split: the creator's share of the price",
    )
    note: str = Field(min_length=1, max_length=5000)

    @field_validator("creator_share_bp")
    @classmethod
    def _share_for_split(cls, value: int | None, info: ValidationInfo) -> int | None:
        resolution = info.data.get("resolution")
        if resolution == "split" and value is None:
            raise ValueError("a split needs creator_share_bp")
        if resolution in {"release", "refund"} and value is not None:
            raise ValueError("creator_share_bp applies only to a split")
        return value


class Dispute(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    opened_by_kind: str
    opened_by_id: str | None
    reason: str
    state_before: str
    status: str
    resolution: str | None
    creator_share_bp: int | None
    resolution_note: str | None
    resolved_at: datetime | None
    created_at: datetime
