"""The queries of `pappus ledger check`. Each invariant is computed by the database and only
the rows that break it come back, so checking a book of millions of transfers takes one pass
of aggregate queries and memory for the violations, not for the book."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session

from pappus.ledger.book_repository import ACCOUNTS, BALANCE_COLUMNS, TRANSACTIONS, TRANSFERS

DEBIT = ACCOUNTS.alias("debit")
CREDIT = ACCOUNTS.alias("credit")
RESOLVED = TRANSFERS.alias("resolved")  # the pending transfer a post or void resolves


@dataclass(frozen=True)
class BalanceMismatch:
    account_id: str
    purpose: str
    owner_id: str
    column: str
    stored: int
    from_transfers: int


@dataclass(frozen=True)
class EscrowLeft:
    order_id: str
    posted_balance: int
    credits_pending: int


ESCROW_BATCH = 1_000  # escrows still holding money, read (and asked about) at a time
TRANSFER_KINDS = ("pending", "posted", "post_pending", "void_pending")
RESOLVING_KINDS = ("post_pending", "void_pending")


def dangling_transfers(session: Session) -> list[str]:
    """Transfers whose debit or credit account does not exist."""
    query = (
        select(TRANSFERS.c.id)
        .outerjoin(DEBIT, DEBIT.c.id == TRANSFERS.c.debit_account_id)
        .outerjoin(CREDIT, CREDIT.c.id == TRANSFERS.c.credit_account_id)
        .where(or_(DEBIT.c.id.is_(None), CREDIT.c.id.is_(None)))
        .order_by(TRANSFERS.c.id)
    )
    return list(session.scalars(query))


def transfers_without_transaction(session: Session) -> list[str]:
    """Transfers whose ledger transaction does not exist."""
    query = (
        select(TRANSFERS.c.id)
        .outerjoin(TRANSACTIONS, TRANSACTIONS.c.id == TRANSFERS.c.transaction_id)
        .where(TRANSACTIONS.c.id.is_(None))
        .order_by(TRANSFERS.c.id)
    )
    return list(session.scalars(query))


def unknown_kinds(session: Session) -> list[tuple[str, str]]:
    """(transfer id, kind) of every transfer of a kind the book does not write."""
    query = (
        select(TRANSFERS.c.id, TRANSFERS.c.kind)
        .where(TRANSFERS.c.kind.not_in(TRANSFER_KINDS))
        .order_by(TRANSFERS.c.id)
    )
    return [(str(transfer_id), str(kind)) for transfer_id, kind in session.execute(query)]


def bad_resolutions(session: Session) -> list[tuple[str, str]]:
    """(transfer id, what is wrong) of every post or void that does not resolve an existing
    pending transfer of the amount it says, and of every pending or posted transfer that
    claims to resolve one."""
    kind = TRANSFERS.c.kind
    resolving = kind.in_(RESOLVING_KINDS)
    query = (
        select(
            TRANSFERS.c.id,
            kind,
            TRANSFERS.c.resolves_id,
            TRANSFERS.c.pending_amount,
            RESOLVED.c.id,
            RESOLVED.c.kind,
            RESOLVED.c.amount,
        )
        .outerjoin(RESOLVED, RESOLVED.c.id == TRANSFERS.c.resolves_id)
        .where(
            or_(
                and_(
                    resolving,
                    or_(
                        RESOLVED.c.id.is_(None),
                        RESOLVED.c.kind != "pending",
                        TRANSFERS.c.pending_amount != RESOLVED.c.amount,
                    ),
                ),
                and_(kind.not_in(RESOLVING_KINDS), TRANSFERS.c.resolves_id.is_not(None)),
            )
        )
        .order_by(TRANSFERS.c.id)
    )
    found = []
    for (
        transfer_id,
        own_kind,
        resolves,
        pending_amount,
        hold_id,
        hold_kind,
        held,
    ) in session.execute(query):
        if own_kind not in RESOLVING_KINDS:
            problem = f"a {own_kind} transfer resolves {resolves}"
        elif resolves is None:
            problem = f"a {own_kind} resolves nothing"
        elif hold_id is None:
            problem = f"resolves {resolves}, which does not exist"
        elif hold_kind != "pending":
            problem = f"resolves {resolves}, a {hold_kind} transfer"
        else:
            problem = f"says the hold was {pending_amount}, {resolves} held {held}"
        found.append((str(transfer_id), problem))
    return found


def currency_mismatches(session: Session) -> list[str]:
    """Transfers in another currency than one of their accounts."""
    query = (
        select(TRANSFERS.c.id)
        .join(DEBIT, DEBIT.c.id == TRANSFERS.c.debit_account_id)
        .join(CREDIT, CREDIT.c.id == TRANSFERS.c.credit_account_id)
        .where(
            or_(
                DEBIT.c.currency != TRANSFERS.c.currency,
                CREDIT.c.currency != TRANSFERS.c.currency,
            )
        )
        .order_by(TRANSFERS.c.id)
    )
    return list(session.scalars(query))


def holds_resolved_twice(session: Session) -> list[str]:
    """Pending transfers that more than one post or void resolves."""
    query = (
        select(TRANSFERS.c.resolves_id)
        .where(TRANSFERS.c.resolves_id.is_not(None))
        .group_by(TRANSFERS.c.resolves_id)
        .having(func.count() > 1)
        .order_by(TRANSFERS.c.resolves_id)
    )
    return [str(found) for found in session.scalars(query)]


def overposted_holds(session: Session) -> list[str]:
    """Posts that post more than the pending transfer they resolve held."""
    query = (
        select(TRANSFERS.c.id)
        .join(RESOLVED, RESOLVED.c.id == TRANSFERS.c.resolves_id)
        .where(TRANSFERS.c.amount > RESOLVED.c.amount)
        .order_by(TRANSFERS.c.id)
    )
    return list(session.scalars(query))


def creator_debits_outside(
    session: Session, allowed_kinds: Collection[str]
) -> list[tuple[str, str]]:
    """(transfer id, transaction kind) of every debit of a creator's account by a transaction
    of a kind that may not debit one."""
    query = (
        select(TRANSFERS.c.id, TRANSACTIONS.c.kind)
        .join(DEBIT, DEBIT.c.id == TRANSFERS.c.debit_account_id)
        .join(TRANSACTIONS, TRANSACTIONS.c.id == TRANSFERS.c.transaction_id)
        .where(DEBIT.c.owner_kind == "creator", TRANSACTIONS.c.kind.not_in(list(allowed_kinds)))
        .order_by(TRANSFERS.c.id)
    )
    return [(str(transfer_id), str(kind)) for transfer_id, kind in session.execute(query)]


def _balance_legs() -> Select[tuple[str, int, int, int, int]]:
    """Each transfer's effect on its two accounts' balance columns, one row per side: a
    pending transfer adds to the pending columns; a post or void takes the resolved hold off
    them and posts its own amount; a posted transfer posts its amount."""
    kind = TRANSFERS.c.kind
    pending: ColumnElement[int] = case(
        (kind == "pending", TRANSFERS.c.amount),
        (kind == "posted", 0),
        else_=-func.coalesce(RESOLVED.c.amount, 0),
    )
    posted: ColumnElement[int] = case((kind == "pending", 0), else_=TRANSFERS.c.amount)
    nothing: ColumnElement[int] = literal_column("0")
    resolved = TRANSFERS.outerjoin(RESOLVED, RESOLVED.c.id == TRANSFERS.c.resolves_id)
    debit_side = select(
        TRANSFERS.c.debit_account_id.label("account_id"),
        pending.label("debits_pending"),
        posted.label("debits_posted"),
        nothing.label("credits_pending"),
        nothing.label("credits_posted"),
    ).select_from(resolved)
    credit_side = select(
        TRANSFERS.c.credit_account_id,
        nothing,
        nothing,
        pending,
        posted,
    ).select_from(resolved)
    return debit_side.union_all(credit_side)  # type: ignore[return-value]


def balance_mismatches(session: Session) -> list[BalanceMismatch]:
    """Every balance column that differs from the sum of its account's transfers."""
    legs = _balance_legs().subquery("legs")
    sums = (
        select(legs.c.account_id, *(func.sum(legs.c[c]).label(c) for c in BALANCE_COLUMNS))
        .group_by(legs.c.account_id)
        .subquery("sums")
    )
    expected = {c: func.coalesce(sums.c[c], 0) for c in BALANCE_COLUMNS}
    query = (
        select(
            ACCOUNTS.c.id,
            ACCOUNTS.c.purpose,
            ACCOUNTS.c.owner_id,
            *(ACCOUNTS.c[c] for c in BALANCE_COLUMNS),
            *(expected[c].label(f"expected_{c}") for c in BALANCE_COLUMNS),
        )
        .outerjoin(sums, sums.c.account_id == ACCOUNTS.c.id)
        .where(or_(*(ACCOUNTS.c[c] != expected[c] for c in BALANCE_COLUMNS)))
        .order_by(ACCOUNTS.c.id)
    )
    found = []
    for row in session.execute(query).mappings():
        for column in BALANCE_COLUMNS:
            stored, computed = int(row[column]), int(row[f"expected_{column}"])
            if stored != computed:
                found.append(
                    BalanceMismatch(
                        row["id"], row["purpose"], row["owner_id"], column, stored, computed
                    )
                )
    return found


def overdrawn_accounts(session: Session) -> list[tuple[str, str]]:
    """(id, purpose) of every account that must not be overdrawn and is."""
    available = ACCOUNTS.c.credits_posted - ACCOUNTS.c.debits_posted - ACCOUNTS.c.debits_pending
    query = (
        select(ACCOUNTS.c.id, ACCOUNTS.c.purpose)
        # not `IS true`: SQLite stores the flag as an integer, and any non-zero one is set
        .where(ACCOUNTS.c.debits_must_not_exceed_credits.is_not(False), available < 0)
        .order_by(ACCOUNTS.c.id)
    )
    return [(str(account_id), str(purpose)) for account_id, purpose in session.execute(query)]


def escrows_not_empty(session: Session) -> Iterator[EscrowLeft]:
    """Every order escrow that still holds money, posted or pending (the running orders'),
    streamed."""
    balance = ACCOUNTS.c.credits_posted - ACCOUNTS.c.debits_posted
    query = (
        select(ACCOUNTS.c.owner_id, balance, ACCOUNTS.c.credits_pending)
        .where(
            ACCOUNTS.c.purpose == "order_escrow",
            or_(balance != 0, ACCOUNTS.c.credits_pending != 0),
        )
        .order_by(ACCOUNTS.c.owner_id)
        .execution_options(yield_per=ESCROW_BATCH)
    )
    for owner_id, balance, pending in session.execute(query):
        yield EscrowLeft(str(owner_id), int(balance), int(pending))


def unbalanced_currencies(session: Session) -> list[tuple[str, int]]:
    """(currency, sum) of every currency whose account balances do not sum to zero."""
    total = func.sum(ACCOUNTS.c.credits_posted - ACCOUNTS.c.debits_posted)
    query = (
        select(ACCOUNTS.c.currency, total)
        .group_by(ACCOUNTS.c.currency)
        .having(total != 0)
        .order_by(ACCOUNTS.c.currency)
    )
    return [(str(currency), int(amount)) for currency, amount in session.execute(query)]


def unbalanced_releases(session: Session) -> list[tuple[str, int, int]]:
    """(transaction id, released, paid) of every escrow release whose posted hold differs
    from what it paid on."""
    released = func.sum(case((TRANSFERS.c.kind == "post_pending", TRANSFERS.c.amount), else_=0))
    paid = func.sum(case((TRANSFERS.c.kind == "posted", TRANSFERS.c.amount), else_=0))
    query = (
        select(TRANSFERS.c.transaction_id, released, paid)
        .join(
            TRANSACTIONS,
            and_(
                TRANSACTIONS.c.id == TRANSFERS.c.transaction_id,
                TRANSACTIONS.c.kind == "escrow_release",
            ),
        )
        .group_by(TRANSFERS.c.transaction_id)
        .having(released != paid)
        .order_by(TRANSFERS.c.transaction_id)
    )
    return [(str(t), int(r), int(p)) for t, r, p in session.execute(query)]


def book_size(session: Session) -> tuple[int, int]:
    """(accounts, transfers) in the book."""
    accounts = select(func.count()).select_from(ACCOUNTS).scalar_subquery()
    transfers = select(func.count()).select_from(TRANSFERS).scalar_subquery()
    row = session.execute(select(accounts, transfers)).one()
    return int(row[0]), int(row[1])
