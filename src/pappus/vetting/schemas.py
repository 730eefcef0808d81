"""Request and response bodies of the vetting API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

BIG = 10**10


class FollowerProfileIn(BaseModel):
    """A follower account as a connector reads it (the fields of a platform's follower
    sample)."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100)
    followers: StrictInt = Field(ge=0, le=BIG)
    following: StrictInt = Field(ge=0, le=BIG)
    posts: StrictInt = Field(ge=0, le=BIG)
    has_profile_pic: StrictBool
    is_private: StrictBool
    bio_length: StrictInt = Field(ge=0, le=100_000)
    full_name: str | None = Field(default=None, max_length=200)
    has_external_url: StrictBool = False


class FollowerScoresRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profiles: list[FollowerProfileIn] = Field(min_length=1, max_length=2000)


class FollowerScoreOut(BaseModel):
    username: str
    probability_fake: float = Field(description="0 to 1: the model's probability of a fake")
    fake: bool = Field(description="probability_fake at or above the model's threshold, 0.5")
    reasons: list[str] = Field(description="Up to three features that raised the probability")


class FollowerScores(BaseModel):
    model: str = Field(description="The shipped model's name and training date")
    items: list[FollowerScoreOut]


class VettingReportView(BaseModel):
    """A creator's audience-quality score with every component: its value, benchmark,
    sub-score (0 to 100) and weight, as brands and the creator see it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    creator_id: str
    score: int | None
    flagged: bool
    red_flags: list[str]
    components: list[dict[str, Any]]
    authenticity: dict[str, Any] = Field(
        description="real_share (corrected), ci95, sample_size, flagged_fake"
    )
    version: int
    created_at: datetime


class QueueItem(BaseModel):
    creator_id: str
    display_name: str
    followers: int
    vetting_status: str
    report: VettingReportView | None


class DecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject", "flag"]
    reason: str = Field(min_length=1, max_length=2000)


class DecisionView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    creator_id: str
    report_id: str | None
    decision: str
    reason: str
    decided_by: str | None = Field(description="staff id; null when the system flagged")
    created_at: datetime


class AppealCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=5000)


class AppealResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["upheld", "dismissed"]
    note: str = Field(min_length=1, max_length=2000)


class AppealView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    creator_id: str
    report_id: str | None
    message: str
    status: str
    resolution_note: str | None
    resolved_by: str | None
    created_at: datetime
    resolved_at: datetime | None


class Queued(BaseModel):
    status: Literal["queued"] = "queued"
    creator_id: str
