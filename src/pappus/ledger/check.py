"""`pappus ledger check`: recompute every invariant of the book from its transfers.

The database does the recomputing (`check_repository`): each rule is one aggregate query that
returns only the rows breaking it, so the check's memory does not grow with the book."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from pappus.ledger import check_repository as repo

# Transaction kinds allowed to debit a creator's account.
CREATOR_DEBIT_KINDS = {"mature", "payout_hold", "payout", "payout_return", "reversal"}


@dataclass(frozen=True)
class Violation:
    rule: str
    detail: str


def check_ledger(session: Session, finished_order_ids: Collection[str]) -> list[Violation]:
    """Every violation found, most fundamental first (an empty list means the book is sound).
    `finished_order_ids`: the orders whose escrow must be empty."""
    found = [
        Violation("dangling_account", f"transfer {t}") for t in repo.dangling_transfers(session)
    ]
    found += [
        Violation("dangling_transaction", f"transfer {t}")
        for t in repo.transfers_without_transaction(session)
    ]
    found += [
        Violation("unknown_transfer_kind", f"transfer {t} ({kind})")
        for t, kind in repo.unknown_kinds(session)
    ]
    found += [
        Violation("bad_resolution", f"transfer {t}: {problem}")
        for t, problem in repo.bad_resolutions(session)
    ]
    found += [
        Violation("currency_mismatch", f"transfer {t}") for t in repo.currency_mismatches(session)
    ]
    found += [Violation("hold_resolved_twice", t) for t in repo.holds_resolved_twice(session)]
    found += [Violation("hold_overposted", t) for t in repo.overposted_holds(session)]
    found += [
        Violation("creator_debited", f"transfer {transfer_id} ({kind})")
        for transfer_id, kind in repo.creator_debits_outside(session, CREATOR_DEBIT_KINDS)
    ]
    found += [
        Violation(
            "balance_mismatch",
            f"account {m.account_id} ({m.purpose} {m.owner_id}) {m.column} is {m.stored}, "
            f"its transfers say {m.from_transfers}",
        )
        for m in repo.balance_mismatches(session)
    ]
    found += [
        Violation("overdrawn", f"account {account_id} ({purpose})")
        for account_id, purpose in repo.overdrawn_accounts(session)
    ]
    found += [
        Violation("escrow_not_empty", f"order {e.order_id} finished with {e.posted_balance} held")
        for e in repo.escrows_not_empty(session)
        if e.order_id in finished_order_ids
    ]
    found += [
        Violation("books_unbalanced", f"{currency} balances sum to {total}, not zero")
        for currency, total in repo.unbalanced_currencies(session)
    ]
    found += [
        Violation("release_unbalanced", f"transaction {txn} released {released}, paid {paid}")
        for txn, released, paid in repo.unbalanced_releases(session)
    ]
    return found


def book_size(session: Session) -> tuple[int, int]:
    return repo.book_size(session)
