"""Deposits into brand wallets through a payment provider, and platform secrets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pappus.db import Base
from pappus.kit.clock import now
from pappus.kit.ids import new_id


class Deposit(Base):
    __tablename__ = "deposits"
    __table_args__ = (UniqueConstraint("provider", "provider_ref"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("dep"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|succeeded|failed
    provider: Mapped[str] = mapped_column(String(32))
    provider_ref: Mapped[str] = mapped_column(String(100))
    failure_reason: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=now)
    settled_at: Mapped[datetime | None]


class PlatformSecret(Base):
    """Secrets generated on first use and shared by every process through the database
    (e.g. the sandbox provider's webhook signing key), so none lives in the repository."""

    __tablename__ = "platform_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=now)


class PayoutMethod(Base):
    """Where a creator is paid. The account number is encrypted at rest; only a mask is shown."""

    __tablename__ = "payout_methods"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("pm"))
    creator_id: Mapped[str] = mapped_column(ForeignKey("creator_profiles.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # bank_account | alipay
    holder_name: Mapped[str] = mapped_column(String(120))
    account_encrypted: Mapped[str] = mapped_column(String(400))
    account_last4: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(16))  # verified | failed
    failure_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=now)


class Payout(Base):
    __tablename__ = "payouts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("po"))
    creator_id: Mapped[str] = mapped_column(ForeignKey("creator_profiles.id"), index=True)
    payout_method_id: Mapped[str] = mapped_column(ForeignKey("payout_methods.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="processing")  # processing|paid|failed
    hold_transfer_id: Mapped[str | None] = mapped_column(String(40))
    provider_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    failure_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=now)
    settled_at: Mapped[datetime | None]
