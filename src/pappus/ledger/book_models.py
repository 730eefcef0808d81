"""The double-entry book: accounts with TigerBeetle-style balance columns, transactions, and
immutable transfers (legs). Pending transfers are resolved by a later post or void transfer
that references them; a unique constraint lets each pending transfer resolve at most once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pappus.db import Base
from pappus.kit.clock import now
from pappus.kit.ids import new_id


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("owner_kind", "owner_id", "purpose", "currency"),
        CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 "
            "AND credits_posted >= 0",
            name="non_negative_columns",
        ),
        # The balance rule, enforced by the database as the last line of defence.
        CheckConstraint(
            "NOT debits_must_not_exceed_credits "
            "OR debits_posted + debits_pending <= credits_posted",
            name="no_overdraft",
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("acc"))
    owner_kind: Mapped[str] = mapped_column(
        String(16)
    )  # organization|creator|order|platform|provider
    owner_id: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    debits_must_not_exceed_credits: Mapped[bool]
    debits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=now)

    @property
    def balance(self) -> int:
        """Posted balance, credit-normal: what the owner has (or is owed)."""
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        """What can still be spent: posted balance minus outgoing holds."""
        return self.credits_posted - self.debits_posted - self.debits_pending


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("ltx"))
    kind: Mapped[str] = mapped_column(String(32))
    # Natural idempotency: one transaction per reference ("order:ord_x:hold").
    reference: Mapped[str] = mapped_column(String(200), unique=True)
    order_id: Mapped[str | None] = mapped_column(String(40), index=True)
    memo: Mapped[str] = mapped_column(String(500), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=now)


class LedgerTransfer(Base):
    __tablename__ = "ledger_transfers"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="non_negative_amount"),
        CheckConstraint("debit_account_id <> credit_account_id", name="two_accounts"),
        # A pending transfer is resolved (posted or voided) at most once.
        UniqueConstraint("resolves_id"),
        Index("ix_ledger_transfers_debit_account_id_id", "debit_account_id", "id"),
        Index("ix_ledger_transfers_credit_account_id_id", "credit_account_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("trf"))
    transaction_id: Mapped[str] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    debit_account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"))
    credit_account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # posted | pending | post_pending | void_pending
    kind: Mapped[str] = mapped_column(String(16))
    resolves_id: Mapped[str | None] = mapped_column(ForeignKey("ledger_transfers.id"))
    # For post_pending/void_pending: the pending amount released from the pending columns.
    pending_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=now)
