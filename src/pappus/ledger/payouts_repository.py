"""Every query of payouts and payout methods."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import literal, select
from sqlalchemy.orm import Session, aliased

from pappus.ledger.book_models import LedgerTransaction
from pappus.ledger.payment_models import Payout, PayoutMethod


def add(session: Session, obj: object) -> None:
    session.add(obj)
    session.flush()


def methods_of(session: Session, creator_id: str) -> Sequence[PayoutMethod]:
    return session.scalars(
        select(PayoutMethod)
        .where(PayoutMethod.creator_id == creator_id)
        .order_by(PayoutMethod.id.desc())
    ).all()


def get_method(session: Session, method_id: str) -> PayoutMethod | None:
    return session.get(PayoutMethod, method_id)


def get_payout(session: Session, payout_id: str, *, lock: bool = False) -> Payout | None:
    query = select(Payout).where(Payout.id == payout_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).first()


def payouts_of(
    session: Session, creator_id: str, *, after_id: str | None, limit: int
) -> Sequence[Payout]:
    query = (
        select(Payout)
        .where(Payout.creator_id == creator_id)
        .order_by(Payout.id.desc())
        .limit(limit + 1)
    )
    if after_id:
        query = query.where(Payout.id < after_id)
    return session.scalars(query).all()


def processing_payout_ids(session: Session) -> Sequence[str]:
    return session.scalars(select(Payout.id).where(Payout.status == "processing")).all()


def unmatured_releases(session: Session, cutoff: datetime) -> Sequence[LedgerTransaction]:
    matured = aliased(LedgerTransaction)
    already = (
        select(matured.id)
        .where(matured.reference == literal("mature:").concat(LedgerTransaction.id))
        .exists()
    )
    return session.scalars(
        select(LedgerTransaction)
        .where(
            LedgerTransaction.kind == "escrow_release",
            LedgerTransaction.created_at <= cutoff,
            ~already,
        )
        .order_by(LedgerTransaction.id)
        .limit(1000)
    ).all()
