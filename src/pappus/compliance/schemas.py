"""Request and response bodies of the compliance API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from pappus.compliance.checker import Post
from pappus.creators.taxonomy import Category

MAX_TEXT = 20_000
Hashtag = Field(min_length=1, max_length=100)


class CheckRequest(BaseModel):
    """A post to check. Sponsored posts (the default) must also carry a disclosure."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=MAX_TEXT)
    title: str = Field(default="", max_length=300)
    hashtags: list[str] = Field(default_factory=list, max_length=50)
    platform: str | None = Field(default=None, min_length=1, max_length=32)
    jurisdiction: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}$",
        description="ISO country whose law applies; by default the platform's (CN for "
        "xiaohongshu, US for instagram ...), or every pack's when neither is known",
    )
    category: Category | None = Field(default=None, description="The product's category")
    sponsored: StrictBool = True
    brand: str | None = Field(
        default=None, min_length=1, max_length=100, description="For 'thanks <brand>' checks"
    )

    def to_post(self) -> Post:
        return Post(
            text=self.text,
            title=self.title,
            hashtags=tuple(self.hashtags),
            platform=self.platform,
            jurisdiction=self.jurisdiction,
            category=self.category,
            sponsored=self.sponsored,
            brand=self.brand,
        )


class FindingView(BaseModel):
    rule_id: str
    pack: str = Field(description="The pack and version that made the finding: id@version")
    kind: Literal[
        "banned_term",
        "pattern",
        "claim",
        "disclosure_missing",
        "disclosure_placement",
        "disclosure_ambiguous",
    ]
    severity: Literal["block", "warn"]
    field: Literal["title", "text", "hashtags"]
    start: int = Field(description="Character offset of the match in `field` (hashtags: `#a #b`)")
    end: int
    match: str
    message: str
    reference: str
    suggestion: str


class CheckResultView(BaseModel):
    checked_at: datetime | None = None
    packs: list[str]
    jurisdictions: list[str]
    blocking: int = Field(description="Findings of severity block")
    warnings: int
    findings: list[FindingView]
    label_required: list[str] = Field(
        description="Disclosure rules met by the platform's own label, verified at publication"
    )


class PackSummary(BaseModel):
    id: str
    version: int
    title: str
    jurisdiction: str
    platforms: list[str]
    effective_from: date
    effective_until: date | None
    origin: Literal["shipped", "staff"]
    in_force: bool = Field(description="The version checks use today")
    rules: int


class PackView(PackSummary):
    definition: dict[str, Any]
    note: str = ""
    created_by: str | None = None
    created_at: datetime | None = None


class PackCreate(BaseModel):
    """A new version of a pack: the whole definition (as in compliance/rules/*.yaml)."""

    model_config = ConfigDict(extra="forbid")

    pack: dict[str, Any]
    note: str = Field(default="", max_length=1000, description="Why this version")


class OverrideCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=10, max_length=2000)
