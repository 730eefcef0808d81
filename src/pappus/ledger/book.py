"""The double-entry engine. Every money movement in Pappus goes through `post`, `hold`,
`post_pending` or `void_pending`; each locks its accounts in a fixed order, checks the balance
rules on the locked rows, updates the balance columns and inserts immutable transfers, inside
the caller's transaction.

Balances are credit-normal (what an owner has): `credits_posted - debits_posted`. An account
that must not be overdrawn keeps `debits_posted + debits_pending <= credits_posted`, checked
here and again by a database CHECK constraint.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from pappus.audit import service as audit
from pappus.errors import Conflict, PappusError
from pappus.kit.clock import now
from pappus.kit.ids import new_id
from pappus.ledger import book_repository as repo
from pappus.ledger.book_models import LedgerAccount, LedgerTransaction
from pappus.ledger.book_repository import Balances, PendingHold

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
# Every release credits the platform's fees. One revenue account would be a row that every
# release locks in turn until it commits, so the fees are spread over a few accounts, chosen
# by order id (an order always pays the same one); the platform's revenue is their sum.
# Changing the count later is safe: no flow debits a revenue account, and sums go by purpose.
PLATFORM_REVENUE_SHARDS = 8
PLATFORM_REVENUE_OWNERS = tuple(f"{PLATFORM_OWNER}:{n}" for n in range(PLATFORM_REVENUE_SHARDS))


def platform_revenue_owner(order_id: str) -> str:
    """The owner id of the platform revenue account that the order's fees are credited to."""
    return PLATFORM_REVENUE_OWNERS[zlib.crc32(order_id.encode()) % PLATFORM_REVENUE_SHARDS]


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


def account_ids(session: Session, wanted: Sequence[tuple[str, str, str]]) -> list[str]:
    """The ids of the accounts for each (purpose, owner, currency), in order, created on first
    use: race-safe without a savepoint (INSERT ... ON CONFLICT DO NOTHING), and on
    PostgreSQL one statement whether they exist or not."""
    keys: list[repo.AccountKey] = [
        (PURPOSES[purpose][0], owner_id, purpose, currency)
        for purpose, owner_id, currency in wanted
    ]
    if not keys:
        return []
    found = repo.account_ids(session, keys, create=[PURPOSES[key[2]][1] for key in keys])
    for key in keys:
        if key not in found:  # SQLite: not there yet; or just committed by a concurrent writer
            created = repo.insert_account(session, key, PURPOSES[key[2]][1])
            if created is None:  # it exists, perhaps just committed by a concurrent writer
                found.update(repo.account_ids(session, [key]))
            else:
                found[key] = created
    return [found[key] for key in keys]


def account_id(session: Session, purpose: str, owner_id: str, currency: str) -> str:
    """The id of the account for (purpose, owner, currency), created on first use."""
    return account_ids(session, [(purpose, owner_id, currency)])[0]


def find_account(
    session: Session, purpose: str, owner_id: str, currency: str
) -> LedgerAccount | None:
    owner_kind, _ = PURPOSES[purpose]
    return repo.find_account(session, owner_kind, owner_id, purpose, currency)


def _transaction_row(
    kind: str,
    reference: str,
    order_id: str | None,
    memo: str,
    details: dict[str, Any] | None,
    at: datetime,
) -> dict[str, Any]:
    return {
        "id": new_id("ltx"),
        "kind": kind,
        "reference": reference,
        "order_id": order_id,
        "memo": memo,
        "details": details or {},
        "created_at": at,
    }


def _transfer_row(
    transaction_id: str,
    debit_account_id: str,
    credit_account_id: str,
    amount: int,
    currency: str,
    kind: str,
    at: datetime,
    *,
    resolves_id: str | None = None,
    pending_amount: int = 0,
) -> dict[str, Any]:
    return {
        "id": new_id("trf"),
        "transaction_id": transaction_id,
        "debit_account_id": debit_account_id,
        "credit_account_id": credit_account_id,
        "amount": amount,
        "currency": currency,
        "kind": kind,
        "resolves_id": resolves_id,
        "pending_amount": pending_amount,
        "created_at": at,
    }


def _check(accounts: dict[str, Balances]) -> None:
    for acc in accounts.values():
        if acc.restricted and acc.debits_posted + acc.debits_pending > acc.credits_posted:
            shortfall = acc.debits_posted + acc.debits_pending - acc.credits_posted
            raise InsufficientFunds(
                f"not enough funds in the {acc.purpose.replace('_', ' ')}: "
                f"{shortfall} {acc.currency} (minor units) short",
                account_id=acc.id,
                currency=acc.currency,
                shortfall=shortfall,
            )


def _lock(session: Session, ids: Sequence[str]) -> dict[str, Balances]:
    accounts = repo.lock_balances(session, ids)
    currencies = {a.currency for a in accounts.values()}
    if len(accounts) != len(set(ids)) or len(currencies) != 1:
        raise ValueError("every leg of a transaction needs existing accounts in one currency")
    return accounts


def _posted_legs(
    transaction_id: str,
    legs: Sequence[Leg],
    accounts: dict[str, Balances],
    currency: str,
    at: datetime,
) -> list[dict[str, Any]]:
    """Apply posted legs to the locked accounts; a transfer row for each non-zero one (the
    balance rule is checked by the caller, once every change is in)."""
    rows = []
    for leg in legs:
        accounts[leg.debit_account_id].debits_posted += leg.amount
        accounts[leg.credit_account_id].credits_posted += leg.amount
        if leg.amount:
            rows.append(
                _transfer_row(
                    transaction_id,
                    leg.debit_account_id,
                    leg.credit_account_id,
                    leg.amount,
                    currency,
                    "posted",
                    at,
                )
            )
    return rows


def _write(
    session: Session,
    transaction: dict[str, Any],
    accounts: dict[str, Balances],
    transfers: list[dict[str, Any]],
    *,
    resolves: str | None = None,
) -> None:
    """Check the balance rule on the changed, locked accounts, then record the transaction,
    the new balances and the transfers. HoldAlreadyResolved when `resolves` (a pending
    transfer) was already resolved, DuplicateReference when the reference is taken, even if
    the funds would not suffice (nothing is written then, and the caller's transaction stays
    usable)."""
    reference = transaction["reference"]
    try:
        _check(accounts)
    except InsufficientFunds:
        # A replay would fail the rule too (a resolved hold is no longer pending): report
        # what happened before, not the shortfall.
        if resolves is not None and repo.is_resolved(session, resolves):
            written: repo.Written = "resolved"
        elif repo.transaction_by_reference(session, reference) is not None:
            written = "duplicate"
        else:
            raise
    else:
        written = repo.write_transaction(
            session, transaction, list(accounts.values()), transfers, unresolved=resolves
        )
    if written == "resolved":
        raise HoldAlreadyResolved(f"hold {resolves} was already resolved")
    if written == "duplicate":
        raise DuplicateReference(f"money movement {reference} was already recorded")
    _audit(session, transfers)


def _audit(session: Session, transfers: list[dict[str, Any]]) -> None:
    """One audit entry per ledger transaction written, with every transfer's accounts and
    amount: the trail shows each money movement even to a reader without the ledger."""
    by_transaction: dict[str, list[dict[str, Any]]] = {}
    for t in transfers:
        by_transaction.setdefault(t["transaction_id"], []).append(t)
    for transaction_id, rows in by_transaction.items():
        audit.record(
            session,
            "ledger.transfer",
            "ledger_transaction",
            transaction_id,
            data={
                "transfers": [
                    {
                        "id": t["id"],
                        "debit": t["debit_account_id"],
                        "credit": t["credit_account_id"],
                        "amount": t["amount"],
                        "currency": t["currency"],
                        "kind": t["kind"],
                        "resolves": t["resolves_id"],
                    }
                    for t in rows
                ]
            },
            at=rows[0]["created_at"],
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
) -> str:
    """Post several legs atomically, all or none; the transaction's id."""
    if any(leg.amount < 0 for leg in legs):
        raise ValueError("leg amounts are non-negative")
    accounts = _lock(
        session, [i for leg in legs for i in (leg.debit_account_id, leg.credit_account_id)]
    )
    at = now()
    currency = next(iter(accounts.values())).currency
    transaction = _transaction_row(kind, reference, order_id, memo, details, at)
    transaction_id: str = transaction["id"]
    _write(
        session,
        transaction,
        accounts,
        _posted_legs(transaction_id, legs, accounts, currency, at),
    )
    return transaction_id


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
) -> str:
    """A pending transfer, reserved on the debit side until posted or voided; its id."""
    if amount < 0:
        raise ValueError("amounts are non-negative")
    accounts = _lock(session, [debit_account_id, credit_account_id])
    at = now()
    transaction = _transaction_row(kind, reference, order_id, memo, details, at)
    debit, credit = accounts[debit_account_id], accounts[credit_account_id]
    debit.debits_pending += amount
    credit.credits_pending += amount
    transfer = _transfer_row(
        transaction["id"],
        debit_account_id,
        credit_account_id,
        amount,
        debit.currency,
        "pending",
        at,
        pending_amount=amount,
    )
    _write(session, transaction, accounts, [transfer])
    return str(transfer["id"])


def _resolve(
    session: Session,
    kind: str,
    reference: str,
    pending: str | PendingHold,
    amount: int,
    resolution: str,
    then: Sequence[Leg],
    order_id: str | None,
    memo: str,
    details: dict[str, Any] | None,
) -> str:
    if any(leg.amount < 0 for leg in then):
        raise ValueError("leg amounts are non-negative")
    if isinstance(pending, str):
        pending_id, found = pending, repo.pending_transfer(session, pending)
        if found is None:
            raise ValueError(f"{pending_id} is not a pending transfer")
        pending = found
    if not 0 <= amount <= pending.amount:
        raise ValueError("a hold posts at most its own amount")
    ids = [pending.debit_account_id, pending.credit_account_id]
    ids += [i for leg in then for i in (leg.debit_account_id, leg.credit_account_id)]
    # Under the locks every resolver of this hold is serialised: the write looks for an
    # earlier resolution and refuses to write after one (the unique resolves_id constraint
    # stays as the last line of defence).
    accounts = _lock(session, ids)
    at = now()
    transaction = _transaction_row(kind, reference, order_id, memo, details, at)
    transaction_id: str = transaction["id"]
    debit, credit = accounts[pending.debit_account_id], accounts[pending.credit_account_id]
    debit.debits_pending -= pending.amount
    credit.credits_pending -= pending.amount
    debit.debits_posted += amount
    credit.credits_posted += amount
    transfers = [
        _transfer_row(
            transaction_id,
            pending.debit_account_id,
            pending.credit_account_id,
            amount,
            pending.currency,
            resolution,
            at,
            resolves_id=pending.transfer_id,
            pending_amount=pending.amount,
        )
    ]
    transfers += _posted_legs(transaction_id, then, accounts, pending.currency, at)
    _write(session, transaction, accounts, transfers, resolves=pending.transfer_id)
    return transaction_id


def post_pending(
    session: Session,
    kind: str,
    reference: str,
    pending: str | PendingHold,
    amount: int,
    *,
    then: Sequence[Leg] = (),
    order_id: str | None = None,
    memo: str = "",
    details: dict[str, Any] | None = None,
) -> str:
    """Post `amount` of a hold (the rest returns to the debit side), then post `then` legs,
    all in one transaction; its id. `pending` is the pending transfer's id, or the hold as
    `pending_hold` read it."""
    return _resolve(
        session, kind, reference, pending, amount, "post_pending", then, order_id, memo, details
    )


def void_pending(
    session: Session,
    kind: str,
    reference: str,
    pending: str | PendingHold,
    *,
    order_id: str | None = None,
    memo: str = "",
    details: dict[str, Any] | None = None,
) -> str:
    """Release a hold in full back to the debit side; the transaction's id."""
    return _resolve(
        session, kind, reference, pending, 0, "void_pending", (), order_id, memo, details
    )


def transaction_by_reference(session: Session, reference: str) -> LedgerTransaction | None:
    return repo.transaction_by_reference(session, reference)


def pending_hold(session: Session, reference: str) -> PendingHold | None:
    """The pending transfer placed under `reference`, with its transaction's details."""
    return repo.pending_hold_by_reference(session, reference)
