"""`pappus ledger check`: recompute every invariant of the book from its transfers."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from pappus.ledger import book_repository as repo
from pappus.ledger.book_models import LedgerTransfer

# Transaction kinds allowed to debit a creator's account.
CREATOR_DEBIT_KINDS = {"mature", "payout_hold", "payout", "payout_return", "reversal"}


@dataclass(frozen=True)
class Violation:
    rule: str
    detail: str


def check_ledger(session: Session, finished_order_ids: set[str]) -> list[Violation]:
    """Every violation found, most fundamental first (an empty list means the book is sound)."""
    violations: list[Violation] = []
    accounts = {a.id: a for a in repo.all_accounts(session)}
    transfers = list(repo.all_transfers(session))
    transactions = {t.id: t for t in repo.all_transactions(session)}
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_id = {t.id: t for t in transfers}
    resolved: set[str] = set()
    for t in transfers:
        debit, credit = accounts.get(t.debit_account_id), accounts.get(t.credit_account_id)
        if debit is None or credit is None:
            violations.append(Violation("dangling_account", f"transfer {t.id}"))
            continue
        if not debit.currency == credit.currency == t.currency:
            violations.append(Violation("currency_mismatch", f"transfer {t.id}"))
        _apply(sums, t, by_id)
        if t.resolves_id:
            if t.resolves_id in resolved:
                violations.append(Violation("hold_resolved_twice", t.resolves_id))
            resolved.add(t.resolves_id)
            if t.amount > by_id[t.resolves_id].amount:
                violations.append(Violation("hold_overposted", t.id))
        if debit.owner_kind == "creator" and transactions[t.transaction_id].kind not in (
            CREATOR_DEBIT_KINDS
        ):
            violations.append(
                Violation(
                    "creator_debited", f"transfer {t.id} ({transactions[t.transaction_id].kind})"
                )
            )
    totals: dict[str, int] = defaultdict(int)
    for acc in accounts.values():
        expected = sums[acc.id]
        for column in ("debits_pending", "debits_posted", "credits_pending", "credits_posted"):
            if getattr(acc, column) != expected[column]:
                violations.append(
                    Violation(
                        "balance_mismatch",
                        f"account {acc.id} ({acc.purpose} {acc.owner_id}) {column} is "
                        f"{getattr(acc, column)}, its transfers say {expected[column]}",
                    )
                )
        if acc.debits_must_not_exceed_credits and acc.available < 0:
            violations.append(Violation("overdrawn", f"account {acc.id} ({acc.purpose})"))
        totals[acc.currency] += acc.balance
        if (
            acc.purpose == "order_escrow"
            and acc.owner_id in finished_order_ids
            and (acc.balance or acc.credits_pending)
        ):
            violations.append(
                Violation(
                    "escrow_not_empty", f"order {acc.owner_id} finished with {acc.balance} held"
                )
            )
    for currency, total in totals.items():
        if total != 0:
            violations.append(
                Violation("books_unbalanced", f"{currency} balances sum to {total}, not zero")
            )
    legs_by_transaction: dict[str, list[LedgerTransfer]] = defaultdict(list)
    for t in transfers:
        legs_by_transaction[t.transaction_id].append(t)
    for txn_id, txn in transactions.items():
        if txn.kind == "escrow_release":
            _check_release(txn_id, legs_by_transaction[txn_id], violations)
    return violations


def _apply(
    sums: dict[str, dict[str, int]], t: LedgerTransfer, by_id: dict[str, LedgerTransfer]
) -> None:
    if t.kind == "posted":
        sums[t.debit_account_id]["debits_posted"] += t.amount
        sums[t.credit_account_id]["credits_posted"] += t.amount
    elif t.kind == "pending":
        sums[t.debit_account_id]["debits_pending"] += t.amount
        sums[t.credit_account_id]["credits_pending"] += t.amount
    else:  # post_pending or void_pending release the pending amount, posting `amount`
        pending = by_id[t.resolves_id or ""]
        sums[t.debit_account_id]["debits_pending"] -= pending.amount
        sums[t.credit_account_id]["credits_pending"] -= pending.amount
        sums[t.debit_account_id]["debits_posted"] += t.amount
        sums[t.credit_account_id]["credits_posted"] += t.amount


def _check_release(txn_id: str, legs: list[LedgerTransfer], violations: list[Violation]) -> None:
    released = sum(t.amount for t in legs if t.kind == "post_pending")
    paid = sum(t.amount for t in legs if t.kind == "posted")
    if released != paid:
        violations.append(
            Violation(
                "release_unbalanced", f"transaction {txn_id} released {released}, paid {paid}"
            )
        )
