"""Wallet, deposit, statement and earnings shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from pappus.kit.money import CURRENCIES

MAX_DEPOSIT = 10**11


class DepositCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(ge=100, le=MAX_DEPOSIT, description="Minor units")
    currency: str = Field(default="CNY", min_length=3, max_length=3)
    organization_id: str | None = Field(default=None, max_length=40)

    @field_validator("currency")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CURRENCIES:
            raise ValueError(f"unsupported currency; use one of {sorted(CURRENCIES)}")
        return value


class Deposit(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organization_id: str
    amount: int
    currency: str
    status: str
    provider: str
    provider_ref: str
    failure_reason: str | None
    created_at: datetime
    settled_at: datetime | None


class Balance(BaseModel):
    currency: str
    available: StrictInt = Field(description="Can be spent on new orders")
    held_in_escrow: StrictInt = Field(description="Held for live orders")
    posted: StrictInt = Field(description="available + held_in_escrow")


class Wallet(BaseModel):
    organization_id: str
    balances: list[Balance]


class StatementLine(BaseModel):
    id: str
    transaction_id: str
    kind: str
    memo: str
    order_id: str | None
    direction: str
    amount: int
    currency: str
    balance_after: int | None
    created_at: datetime
    details: dict[str, Any]


class EarningsBalance(BaseModel):
    currency: str
    pending: int
    available: int
    paid_out: int


class Earnings(BaseModel):
    creator_id: str
    balances: list[EarningsBalance]
    lines: list[StatementLine]
    next_cursor: str | None = None


class PayoutMethodCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["bank_account", "alipay"]
    holder_name: str = Field(min_length=1, max_length=120)
    account_number: str = Field(min_length=6, max_length=64)


class PayoutMethod(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    holder_name: str
    account_last4: str
    status: str
    failure_reason: str | None
    created_at: datetime


class PayoutCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(ge=1, le=MAX_DEPOSIT, description="Minor units")
    currency: str = Field(default="CNY", min_length=3, max_length=3)
    payout_method_id: str = Field(min_length=1, max_length=40)

    @field_validator("currency")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CURRENCIES:
            raise ValueError(f"unsupported currency; use one of {sorted(CURRENCIES)}")
        return value


class Payout(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    payout_method_id: str
    amount: int
    currency: str
    status: str
    provider_ref: str | None
    failure_reason: str | None
    created_at: datetime
    settled_at: datetime | None
