"""Request and response bodies of the vetting API."""

from __future__ import annotations

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
