"""Pydantic shapes of the analytics API and of the conversion webhook's body."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from pappus.kit.money import CURRENCIES

MAX_AMOUNT = 10**12
CODE_PATTERN = r"^[A-Za-z0-9_-]{3,40}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class View(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class LinkCreate(Strict):
    destination: StrictStr = Field(
        min_length=8, max_length=2048, examples=["https://shop.example/p/1"]
    )
    label: StrictStr = Field(default="", max_length=100)
    utm: dict[str, StrictStr] | None = Field(
        default=None,
        description="Override utm_source, utm_medium, utm_campaign, utm_content, utm_term",
    )

    @field_validator("utm")
    @classmethod
    def _utm_only(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        allowed = {"utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"}
        for key, item in (value or {}).items():
            if key not in allowed:
                raise ValueError(f"'{key}' is not a UTM parameter; use {sorted(allowed)}")
            if not 1 <= len(item) <= 200:
                raise ValueError(f"{key} must be 1 to 200 characters")
        return value


class LinkView(View):
    id: str
    code: str
    short_path: str
    order_id: str
    campaign_id: str
    destination_url: str
    target_url: str
    label: str
    active: bool
    created_at: datetime
    clicks: int = 0
    valid_clicks: int = 0


class CouponCreate(Strict):
    code: StrictStr | None = Field(
        default=None, pattern=CODE_PATTERN, description="Your own code; made up when absent"
    )
    description: StrictStr = Field(default="", max_length=200)


class CouponView(View):
    id: str
    code: str
    order_id: str
    campaign_id: str
    description: str
    active: bool
    created_at: datetime


class StoreCreate(Strict):
    name: StrictStr = Field(min_length=1, max_length=120)
    currency: StrictStr = Field(pattern=r"^[A-Z]{3}$")
    attribution_window_days: StrictInt = Field(default=7, ge=1, le=90)
    organization_id: StrictStr | None = Field(default=None, max_length=40)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in CURRENCIES:
            raise ValueError(f"currency must be one of {sorted(CURRENCIES)}")
        return value


class StoreView(View):
    id: str
    organization_id: str
    name: str
    currency: str
    attribution_window_days: int
    active: bool
    created_at: datetime


class StoreCreated(StoreView):
    signing_secret: str = Field(description="Shown once: sign webhook bodies with it")


class ConversionEvent(Strict):
    """The webhook body. `order_id` is the store's own order id."""

    type: Literal["order.paid", "order.refunded", "order.cancelled"]
    order_id: StrictStr = Field(min_length=1, max_length=200)
    occurred_at: AwareDatetime
    amount: StrictInt | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    currency: StrictStr | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    coupon_codes: list[StrictStr] = Field(default_factory=list, max_length=10)
    click_ids: list[StrictStr] = Field(default_factory=list, max_length=20)
    refund_id: StrictStr | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("coupon_codes")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not 1 <= len(code) <= 40:
                raise ValueError("coupon codes are 1 to 40 characters")
        return value

    @field_validator("click_ids")
    @classmethod
    def _clicks(cls, value: list[str]) -> list[str]:
        for click in value:
            if not 1 <= len(click) <= 40:
                raise ValueError("click ids are 1 to 40 characters")
        return value

    @model_validator(mode="after")
    def _fields_of_type(self) -> ConversionEvent:
        if self.type == "order.paid" and (self.amount is None or self.currency is None):
            raise ValueError("order.paid needs amount and currency")
        if self.type == "order.refunded" and (self.amount is None or self.refund_id is None):
            raise ValueError("order.refunded needs amount and refund_id")
        if self.type == "order.refunded" and self.amount == 0:
            raise ValueError("a refund's amount must be positive")
        return self


class ConversionView(View):
    id: str
    store_id: str
    external_order_id: str
    occurred_at: datetime
    currency: str
    amount: int
    refunded_amount: int
    status: str
    order_id: str | None
    campaign_id: str | None
    attribution: str | None
    coupon_code: str | None
    click_id: str | None
    evidence: dict[str, Any]
    created_at: datetime
    voided_at: datetime | None


class WebhookResult(View):
    event: str
    created: bool
    conversion: ConversionView


class CommentView(View):
    id: str
    order_id: str
    external_id: str
    text: str
    posted_at: datetime
    sentiment: str
    sentiment_score: float
    model_version: str


class CommentSync(BaseModel):
    new_comments: int


class SentimentRequest(Strict):
    texts: list[StrictStr] = Field(min_length=1, max_length=1000)

    @field_validator("texts")
    @classmethod
    def _length(cls, value: list[str]) -> list[str]:
        for text in value:
            if len(text) > 20_000:
                raise ValueError("each text is at most 20,000 characters")
        return value


class SentimentItem(BaseModel):
    label: Literal["positive", "neutral", "negative"]
    score: float = Field(description="Probability that the text is positive")


class SentimentResponse(BaseModel):
    items: list[SentimentItem]
    model: str = Field(description="The model's version")
