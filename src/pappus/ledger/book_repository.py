"""Every query of the double-entry book."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pappus.ledger.book_models import LedgerAccount, LedgerTransaction, LedgerTransfer


def find_account(
    session: Session, owner_kind: str, owner_id: str, purpose: str, currency: str
) -> LedgerAccount | None:
    return session.scalars(
        select(LedgerAccount).where(
            LedgerAccount.owner_kind == owner_kind,
            LedgerAccount.owner_id == owner_id,
            LedgerAccount.purpose == purpose,
            LedgerAccount.currency == currency,
        )
    ).first()


def add(session: Session, obj: object) -> None:
    session.add(obj)
    session.flush()


def lock_accounts(session: Session, account_ids: Sequence[str]) -> dict[str, LedgerAccount]:
    """Lock the accounts in id order (a fixed order, so two writers cannot deadlock) and
    return them fresh from the database."""
    ordered = sorted(set(account_ids))
    query = select(LedgerAccount).where(LedgerAccount.id.in_(ordered)).order_by(LedgerAccount.id)
    if session.get_bind().dialect.name == "postgresql":
        # NO KEY UPDATE: balance updates do not block inserts of transfers referencing the row.
        query = query.with_for_update(key_share=True)
    rows = session.scalars(query.execution_options(populate_existing=True)).all()
    return {row.id: row for row in rows}


def transaction_by_reference(session: Session, reference: str) -> LedgerTransaction | None:
    return session.scalars(
        select(LedgerTransaction).where(LedgerTransaction.reference == reference)
    ).first()


def get_transfer(session: Session, transfer_id: str) -> LedgerTransfer | None:
    return session.get(LedgerTransfer, transfer_id)


def resolution_of(session: Session, pending_id: str) -> LedgerTransfer | None:
    return session.scalars(
        select(LedgerTransfer).where(LedgerTransfer.resolves_id == pending_id)
    ).first()


def transfers_of_transaction(session: Session, transaction_id: str) -> Sequence[LedgerTransfer]:
    return session.scalars(
        select(LedgerTransfer)
        .where(LedgerTransfer.transaction_id == transaction_id)
        .order_by(LedgerTransfer.id)
    ).all()


def account_transfers(
    session: Session,
    account_id: str,
    *,
    after_id: str | None,
    limit: int,
    since: datetime | None = None,
    until: datetime | None = None,
    newest_first: bool = True,
) -> Sequence[tuple[LedgerTransfer, LedgerTransaction]]:
    query = (
        select(LedgerTransfer, LedgerTransaction)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerTransfer.transaction_id)
        .where(
            or_(
                LedgerTransfer.debit_account_id == account_id,
                LedgerTransfer.credit_account_id == account_id,
            )
        )
    )
    if since is not None:
        query = query.where(LedgerTransfer.created_at >= since)
    if until is not None:
        query = query.where(LedgerTransfer.created_at < until)
    if newest_first:
        query = query.order_by(LedgerTransfer.id.desc())
        if after_id:
            query = query.where(LedgerTransfer.id < after_id)
    else:
        query = query.order_by(LedgerTransfer.id)
        if after_id:
            query = query.where(LedgerTransfer.id > after_id)
    return [(t, x) for t, x in session.execute(query.limit(limit + 1)).all()]


def accounts_of_owner(session: Session, owner_kind: str, owner_id: str) -> Sequence[LedgerAccount]:
    return session.scalars(
        select(LedgerAccount)
        .where(LedgerAccount.owner_kind == owner_kind, LedgerAccount.owner_id == owner_id)
        .order_by(LedgerAccount.purpose, LedgerAccount.currency)
    ).all()


def all_accounts(session: Session) -> Sequence[LedgerAccount]:
    return session.scalars(select(LedgerAccount).order_by(LedgerAccount.id)).all()


def all_transfers(session: Session) -> Sequence[LedgerTransfer]:
    return session.scalars(select(LedgerTransfer).order_by(LedgerTransfer.id)).all()


def all_transactions(session: Session) -> Sequence[LedgerTransaction]:
    return session.scalars(select(LedgerTransaction).order_by(LedgerTransaction.id)).all()
