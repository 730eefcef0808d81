"""Every query of the ledger domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from pappus.ledger.models import EscrowInstruction


def add(session: Session, instruction: EscrowInstruction) -> None:
    session.add(instruction)
    session.flush()


def for_order(session: Session, order_id: str) -> Sequence[EscrowInstruction]:
    return session.scalars(
        select(EscrowInstruction)
        .where(EscrowInstruction.order_id == order_id)
        .order_by(EscrowInstruction.id)
    ).all()


def find(session: Session, order_id: str, kind: str) -> EscrowInstruction | None:
    return session.scalars(
        select(EscrowInstruction).where(
            EscrowInstruction.order_id == order_id, EscrowInstruction.kind == kind
        )
    ).first()
