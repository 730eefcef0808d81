"""`pappus ledger check`: recompute every invariant of the book from its transfers.

The database does the recomputing (`check_repository`): each rule is one aggregate query that
returns only the rows breaking it, so the check's memory does not grow with the book."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from sqlalchemy.orm import Session

from pappus.ledger import check_repository as repo

# Transaction kinds allowed to debit a creator's account.
CREATOR_DEBIT_KINDS = {"mature", "payout_hold", "payout", "payout_return", "reversal"}


@dataclass(frozen=True)
class Violation:
    rule: str
    detail: str


# Which of the given orders are finished: a set of them, or a function asked in batches (so a
# check of millions of orders need not hold all their ids).
FinishedOrders = Collection[str] | Callable[[list[str]], Collection[str]]


def check_ledger(session: Session, finished: FinishedOrders) -> list[Violation]:
    """Every violation found, most fundamental first (an empty list means the book is sound).
    `finished`: the orders whose escrow must be empty."""
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
    found += _finished_escrows_not_empty(session, finished)
    found += [
        Violation("books_unbalanced", f"{currency} balances sum to {total}, not zero")
        for currency, total in repo.unbalanced_currencies(session)
    ]
    found += [
        Violation("release_unbalanced", f"transaction {txn} released {released}, paid {paid}")
        for txn, released, paid in repo.unbalanced_releases(session)
    ]
    return found


def _finished_escrows_not_empty(session: Session, finished: FinishedOrders) -> list[Violation]:
    found = []
    for batch in _batches(repo.escrows_not_empty(session), repo.ESCROW_BATCH):
        ids = [e.order_id for e in batch]
        done = finished(ids) if callable(finished) else finished
        found += [
            Violation(
                "escrow_not_empty",
                f"order {e.order_id} finished with {e.posted_balance} posted and "
                f"{e.credits_pending} on hold in its escrow",
            )
            for e in batch
            if e.order_id in done
        ]
    return found


def _batches(items: Iterable[repo.EscrowLeft], size: int) -> Iterator[list[repo.EscrowLeft]]:
    rest = iter(items)
    while batch := list(islice(rest, size)):
        yield batch
