"""The seams where the order workflow moves money.

`place_escrow_hold` runs in the transaction that creates an order; `settle_escrow` in the one
that ends it. Each writes one unique instruction per order and kind, so a replayed or racing
settlement cannot pay twice. The double-entry ledger of issue #3 takes over these two
functions (posting the hold from the brand wallet, and the release/refund legs); their
signatures are the contract between the workflow and the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pappus.errors import Conflict
from pappus.ledger import repository as repo
from pappus.ledger.models import EscrowInstruction


class EscrowAlreadySettled(Conflict):
    code = "escrow_already_settled"
    title = "Escrow already settled"


class EscrowNotHeld(Conflict):
    code = "escrow_not_held"
    title = "No escrow hold for this order"


@dataclass(frozen=True)
class EscrowHold:
    order_id: str
    organization_id: str
    creator_id: str
    currency: str
    amount: int


@dataclass(frozen=True)
class EscrowSettlement:
    order_id: str
    to_creator: int
    to_platform: int
    to_brand: int
    reason: str


def place_escrow_hold(session: Session, hold: EscrowHold) -> EscrowInstruction:
    """Hold the order's escrow. Raises (and so aborts the order) if it cannot be held."""
    if hold.amount < 0:
        raise ValueError("escrow amounts are non-negative")
    instruction = EscrowInstruction(
        order_id=hold.order_id,
        organization_id=hold.organization_id,
        creator_id=hold.creator_id,
        kind="hold",
        currency=hold.currency,
        amount=hold.amount,
        legs={"from": "brand_wallet", "to": "order_escrow"},
    )
    repo.add(session, instruction)
    return instruction


def settle_escrow(session: Session, settlement: EscrowSettlement) -> EscrowInstruction:
    """Release the whole hold at once: creator, platform and brand legs must add up to it."""
    hold = repo.find(session, settlement.order_id, "hold")
    if hold is None:
        raise EscrowNotHeld(f"order {settlement.order_id} has no escrow hold")
    legs = (settlement.to_creator, settlement.to_platform, settlement.to_brand)
    if min(legs) < 0 or sum(legs) != hold.amount:
        raise ValueError(f"settlement legs {legs} do not add up to the hold of {hold.amount}")
    instruction = EscrowInstruction(
        order_id=hold.order_id,
        organization_id=hold.organization_id,
        creator_id=hold.creator_id,
        kind="settle",
        currency=hold.currency,
        amount=hold.amount,
        legs={
            "to_creator": settlement.to_creator,
            "to_platform": settlement.to_platform,
            "to_brand": settlement.to_brand,
            "reason": settlement.reason,
        },
    )
    try:
        with session.begin_nested():
            repo.add(session, instruction)
    except IntegrityError:
        raise EscrowAlreadySettled(f"order {settlement.order_id} is already settled") from None
    return instruction


def instructions_for_order(session: Session, order_id: str) -> list[EscrowInstruction]:
    return list(repo.for_order(session, order_id))
