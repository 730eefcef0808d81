"""The double-entry engine. Every money movement in Pappus goes through `post`, `hold`,
`post_pending` or `void_pending`; each locks its accounts in a fixed order, checks the balance
rules on the locked rows, updates the balance columns and inserts immutable transfers, inside
the caller's transaction.

Balances are credit-normal (what an owner has): `credits_posted - debits_posted`. An account
that must not be overdrawn keeps `debits_posted + debits_pending <= credits_posted`, checked
here and again by a database CHECK constraint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pappus.errors import Conflict, PappusError
from pappus.ledger import book_repository as repo
from pappus.ledger.book_models import LedgerAccount, LedgerTransaction, LedgerTransfer

# purpose -> (owner kind, must never be overdrawn)
PURPOSES: dict[str, tuple[str, bool]] = {
    "brand_wallet": ("organization", True),
    "order_escrow": ("order", True),
    "creator_pending": ("creator", True),
    "creator_available": ("creator", True),
    "platform_revenue": ("platform", True),
    # The payment provider's side: money that came in from, or went out to, the outside.
    "deposit_clearing": ("provider", False),
    "payout_clearing": ("provider", False),
}
PLATFORM_OWNER = "pappus"


class InsufficientFunds(PappusError):
    code = "insufficient_funds"
    status = 402
    title = "Insufficient funds"


class DuplicateReference(Conflict):
    code = "ledger_duplicate"
    title = "This money movement was already recorded"


class HoldAlreadyResolved(Conflict):
    code = "hold_already_resolved"
    title = "The hold was already posted or voided"


@dataclass(frozen=True)
class Leg:
    debit_account_id: str
    credit_account_id: str
    amount: int


def account(session: Session, purpose: str, owner_id: str, currency: str) -> LedgerAccount:
    """The account for (purpose, owner, currency), created on first use (race-safe)."""
    owner_kind, restricted = PURPOSES[purpose]
    found = repo.find_account(session, owner_kind, owner_id, purpose, currency)
    if found is not None:
        return found
    created = LedgerAccount(
        owner_kind=owner_kind,
        owner_id=owner_id,
        purpose=purpose,
        currency=currency,
        debits_must_not_exceed_credits=restricted,
        debits_pending=0,
        debits_posted=0,
        credits_pending=0,
        credits_posted=0,
    )
    try:
        with session.begin_nested():
            repo.add(session, created)
    except IntegrityError:
        found = repo.find_account(session, owner_kind, owner_id, purpose, currency)
        assert found is not None
        return found
    return created


def find_account(
    session: Session, purpose: str, owner_id: str, currency: str
) -> LedgerAccount | None:
    owner_kind, _ = PURPOSES[purpose]
    return repo.find_account(session, owner_kind, owner_id, purpose, currency)


def _new_transaction(
    session: Session,
    kind: str,
    reference: str,
    order_id: str | None,
    memo: str,
    details: dict[str, Any] | None,
) -> LedgerTransaction:
    txn = LedgerTransaction(
        kind=kind, reference=reference, order_id=order_id, memo=memo, details=details or {}
    )
    try:
        with session.begin_nested():
            repo.add(session, txn)
    except IntegrityError:
        raise DuplicateReference(f"money movement {reference} was already recorded") from None
    return txn


def _check(accounts: dict[str, LedgerAccount]) -> None:
    for acc in accounts.values():
        if acc.debits_must_not_exceed_credits and (
            acc.debits_posted + acc.debits_pending > acc.credits_posted
        ):
            shortfall = acc.debits_posted + acc.debits_pending - acc.credits_posted
            raise InsufficientFunds(
                f"not enough funds in the {acc.purpose.replace('_', ' ')}: "
                f"{shortfall} {acc.currency} (minor units) short",
                account_id=acc.id,
                currency=acc.currency,
                shortfall=shortfall,
            )


def _lock(session: Session, ids: Sequence[str]) -> dict[str, LedgerAccount]:
    accounts = repo.lock_accounts(session, ids)
    currencies = {a.currency for a in accounts.values()}
    if len(accounts) != len(set(ids)) or len(currencies) != 1:
        raise ValueError("every leg of a transaction needs existing accounts in one currency")
    return accounts


def _post_legs(
    session: Session,
    txn: LedgerTransaction,
    legs: Sequence[Leg],
    accounts: dict[str, LedgerAccount],
    currency: str,
) -> None:
    """Apply posted legs to the locked accounts and record a transfer for each non-zero one
    (the balance rule is checked by the caller, once every change is in)."""
    for leg in legs:
        accounts[leg.debit_account_id].debits_posted += leg.amount
        accounts[leg.credit_account_id].credits_posted += leg.amount
        if leg.amount:
            session.add(
                LedgerTransfer(
                    transaction_id=txn.id,
                    debit_account_id=leg.debit_account_id,
                    credit_account_id=leg.credit_account_id,
                    amount=leg.amount,
                    currency=currency,
                    kind="posted",
                    pending_amount=0,
                )
            )


def post(
    session: Session,
    kind: str,
    reference: str,
    legs: Sequence[Leg],
    *,
    order_id: str | None = None,
    memo: str = "",
    details: dict[str, Any] | None = None,
) -> LedgerTransaction:
    """Post several legs atomically; all or none."""
    if any(leg.amount < 0 for leg in legs):
        raise ValueError("leg amounts are non-negative")
    accounts = _lock(
        session, [i for leg in legs for i in (leg.debit_account_id, leg.credit_account_id)]
    )
    txn = _new_transaction(session, kind, reference, order_id, memo, details)
    _post_legs(session, txn, legs, accounts, next(iter(accounts.values())).currency)
    _check(accounts)
    session.flush()
    return txn


def hold(
    session: Session,
    kind: str,
    reference: str,
    debit_account_id: str,
    credit_account_id: str,
    amount: int,
    *,
    order_id: str | None = None,
    memo: str = "",
    details: dict[str, Any] | None = None,
) -> LedgerTransfer:
    """A pending transfer: reserved on the debit side until posted or voided."""
    if amount < 0:
        raise ValueError("amounts are non-negative")
    accounts = _lock(session, [debit_account_id, credit_account_id])
    txn = _new_transaction(session, kind, reference, order_id, memo, details)
    debit, credit = accounts[debit_account_id], accounts[credit_account_id]
    debit.debits_pending += amount
    credit.credits_pending += amount
    _check(accounts)
    transfer = LedgerTransfer(
        transaction_id=txn.id,
        debit_account_id=debit_account_id,
        credit_account_id=credit_account_id,
        amount=amount,
        currency=debit.currency,
        kind="pending",
        pending_amount=amount,
    )
    repo.add(session, transfer)
    return transfer


def _resolve(
    session: Session,
    kind: str,
    reference: str,
    pending_id: str,
    amount: int,
    resolution: str,
    then: Sequence[Leg],
    order_id: str | None,
    memo: str,
    details: dict[str, Any] | None,
) -> LedgerTransaction:
    if any(leg.amount < 0 for leg in then):
        raise ValueError("leg amounts are non-negative")
    pending = repo.get_transfer(session, pending_id)
    if pending is None or pending.kind != "pending":
        raise ValueError(f"{pending_id} is not a pending transfer")
    if not 0 <= amount <= pending.amount:
        raise ValueError("a hold posts at most its own amount")
    ids = [pending.debit_account_id, pending.credit_account_id]
    ids += [i for leg in then for i in (leg.debit_account_id, leg.credit_account_id)]
    accounts = _lock(session, ids)
    if repo.resolution_of(session, pending_id) is not None:
        raise HoldAlreadyResolved(f"hold {pending_id} was already resolved")
    txn = _new_transaction(session, kind, reference, order_id, memo, details)
    debit, credit = accounts[pending.debit_account_id], accounts[pending.credit_account_id]
    debit.debits_pending -= pending.amount
    credit.credits_pending -= pending.amount
    debit.debits_posted += amount
    credit.credits_posted += amount
    resolution_transfer = LedgerTransfer(
        transaction_id=txn.id,
        debit_account_id=pending.debit_account_id,
        credit_account_id=pending.credit_account_id,
        amount=amount,
        currency=pending.currency,
        kind=resolution,
        resolves_id=pending.id,
        pending_amount=pending.amount,
    )
    try:
        with session.begin_nested():
            repo.add(session, resolution_transfer)
    except IntegrityError:
        raise HoldAlreadyResolved(f"hold {pending_id} was already resolved") from None
    _post_legs(session, txn, then, accounts, pending.currency)
    _check(accounts)
    session.flush()
    return txn


def post_pending(
    session: Session,
    kind: str,
    reference: str,
    pending_id: str,
    amount: int,
    *,
    then: Sequence[Leg] = (),
    order_id: str | None = None,
    memo: str = "",
    details: dict[str, Any] | None = None,
) -> LedgerTransaction:
    """Post `amount` of a hold (the rest returns to the debit side), then post `then` legs,
    all in one transaction."""
    return _resolve(
        session, kind, reference, pending_id, amount, "post_pending", then, order_id, memo, details
    )


def void_pending(
    session: Session,
    kind: str,
    reference: str,
    pending_id: str,
    *,
    order_id: str | None = None,
    memo: str = "",
    details: dict[str, Any] | None = None,
) -> LedgerTransaction:
    """Release a hold in full back to the debit side."""
    return _resolve(
        session, kind, reference, pending_id, 0, "void_pending", (), order_id, memo, details
    )


def transaction_by_reference(session: Session, reference: str) -> LedgerTransaction | None:
    return repo.transaction_by_reference(session, reference)


def pending_hold(
    session: Session, reference: str
) -> tuple[LedgerTransaction, LedgerTransfer] | None:
    """The transaction placed under `reference` and its pending transfer."""
    txn = repo.transaction_by_reference(session, reference)
    if txn is None:
        return None
    for transfer in repo.transfers_of_transaction(session, txn.id):
        if transfer.kind == "pending":
            return txn, transfer
    return None


def pending_transfer_of(session: Session, reference: str) -> LedgerTransfer | None:
    found = pending_hold(session, reference)
    return found[1] if found else None
