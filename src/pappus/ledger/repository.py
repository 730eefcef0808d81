"""Every query of the ledger domain's wallet and deposit views (the book's own queries are in
book_repository.py)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from pappus.ledger.book_models import LedgerTransfer
from pappus.ledger.book_repository import account_transfers, accounts_of_owner
from pappus.ledger.payment_models import Deposit

__all__ = ["account_transfers", "accounts_of_owner"]


def add(session: Session, obj: object) -> None:
    session.add(obj)
    session.flush()


def deposit_by_provider_ref(
    session: Session, provider: str, provider_ref: str, *, lock: bool = False
) -> Deposit | None:
    query = select(Deposit).where(
        Deposit.provider == provider, Deposit.provider_ref == provider_ref
    )
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).first()


def get_deposit(session: Session, deposit_id: str) -> Deposit | None:
    return session.get(Deposit, deposit_id)


def deposits_of(
    session: Session, organization_id: str, *, after_id: str | None, limit: int
) -> Sequence[Deposit]:
    query = (
        select(Deposit)
        .where(Deposit.organization_id == organization_id)
        .order_by(Deposit.id.desc())
        .limit(limit + 1)
    )
    if after_id:
        query = query.where(Deposit.id < after_id)
    return session.scalars(query).all()


def posted_balance_through(session: Session, account_id: str, last_transfer_id: str) -> int:
    """The account's posted balance counting transfers up to and including `last_transfer_id`."""
    signed = case(
        (LedgerTransfer.credit_account_id == account_id, LedgerTransfer.amount),
        else_=-LedgerTransfer.amount,
    )
    total = session.scalar(
        select(func.coalesce(func.sum(signed), 0)).where(
            (LedgerTransfer.credit_account_id == account_id)
            | (LedgerTransfer.debit_account_id == account_id),
            LedgerTransfer.kind.in_(["posted", "post_pending"]),
            LedgerTransfer.id <= last_transfer_id,
        )
    )
    return int(total or 0)
