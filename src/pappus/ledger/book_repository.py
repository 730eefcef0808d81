"""Every query of the double-entry book."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, String, Table, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pappus.db import execute_on_driver, execute_prebuilt
from pappus.kit.clock import now
from pappus.kit.ids import new_id
from pappus.ledger.book_models import LedgerAccount, LedgerTransaction, LedgerTransfer

ACCOUNTS: Table = LedgerAccount.__table__  # type: ignore[assignment]
TRANSACTIONS: Table = LedgerTransaction.__table__  # type: ignore[assignment]
TRANSFERS: Table = LedgerTransfer.__table__  # type: ignore[assignment]
BALANCE_COLUMNS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")


@dataclass
class Balances:
    """A locked account's rule flag and balance columns, changed in memory and written back."""

    id: str
    purpose: str
    currency: str
    restricted: bool
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int


@dataclass(frozen=True)
class PendingHold:
    """A pending transfer with what its transaction recorded about it."""

    transfer_id: str
    transaction_id: str
    debit_account_id: str
    credit_account_id: str
    amount: int
    currency: str
    details: Mapping[str, Any]


# The write path of the book uses Core statements built once: the ORM's unit of work, and
# even building a statement per call, cost more than the statements themselves here.

ACCOUNT_KEY = ("owner_kind", "owner_id", "purpose", "currency")


def _insert_unless_present(table: Table, unique: Sequence[str]) -> dict[str, Any]:
    """INSERT ... ON CONFLICT (unique) DO NOTHING RETURNING id, per dialect. RETURNING, not
    rowcount, tells whether the row went in: the drivers' rowcount here is -1."""
    values: dict[str, Any] = {column.name: bindparam(column.name) for column in table.columns}
    return {
        dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(table)
        .values(values)
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(table.c.id)
        for dialect in (postgresql, sqlite)
    }


_INSERT_ACCOUNT = _insert_unless_present(ACCOUNTS, ACCOUNT_KEY)
_INSERT_TRANSACTION = _insert_unless_present(TRANSACTIONS, ("reference",))["sqlite"]
_INSERT_TRANSFERS = TRANSFERS.insert()
_ACCOUNT_KEY_COLUMNS = tuple(ACCOUNTS.c[name] for name in ACCOUNT_KEY)
# One key at a time: SQLite searches the key's index for one row value but scans the whole
# table for an IN list of several. PostgreSQL looks up several keys at once, and creates the
# missing ones, in `_FIND_OR_CREATE_ACCOUNTS_POSTGRESQL`.
_ACCOUNT_ID = select(ACCOUNTS.c.id, *_ACCOUNT_KEY_COLUMNS).where(
    *(column == bindparam(column.name) for column in _ACCOUNT_KEY_COLUMNS)
)
_BALANCE_ROWS = select(
    ACCOUNTS.c.id,
    ACCOUNTS.c.purpose,
    ACCOUNTS.c.currency,
    ACCOUNTS.c.debits_must_not_exceed_credits,
    *(ACCOUNTS.c[name] for name in BALANCE_COLUMNS),
).order_by(ACCOUNTS.c.id)
_LOCK_BALANCES_SQLITE = _BALANCE_ROWS.where(ACCOUNTS.c.id.in_(bindparam("ids", expanding=True)))


@functools.lru_cache(maxsize=32)
def _lock_balances_postgresql(count: int) -> Select[Any]:
    """The lock of `count` accounts on PostgreSQL, built once per count.

    NO KEY UPDATE: balance updates do not block inserts of transfers referencing the rows.
    One parameter per id, not one array: for `id = ANY($1)` a prepared statement's generic
    plan expects 10 rows, so PostgreSQL judged it dearer than a plan for the actual 2 to 4
    and planned the statement afresh on every run (`pg_prepared_statements`: 0 generic
    plans of 2,395). With the ids counted out, the generic plan is the custom one and is kept.
    """
    ids = [bindparam(f"id_{n}", type_=String) for n in range(count)]
    return _BALANCE_ROWS.where(ACCOUNTS.c.id.in_(ids)).with_for_update(key_share=True)


_WRITE_BALANCES = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.id == bindparam("account_id"))
    .values({name: bindparam(f"new_{name}") for name in BALANCE_COLUMNS})
)
_RESOLUTION = select(TRANSFERS.c.id).where(TRANSFERS.c.resolves_id == bindparam("pending_id"))
_PENDING = select(
    TRANSFERS.c.id,
    TRANSFERS.c.transaction_id,
    TRANSFERS.c.debit_account_id,
    TRANSFERS.c.credit_account_id,
    TRANSFERS.c.amount,
    TRANSFERS.c.currency,
    TRANSACTIONS.c.details,
).join(TRANSACTIONS, TRANSACTIONS.c.id == TRANSFERS.c.transaction_id)
_PENDING_BY_ID = _PENDING.where(
    TRANSFERS.c.id == bindparam("transfer_id"), TRANSFERS.c.kind == "pending"
)
_PENDING_BY_REFERENCE = _PENDING.where(
    TRANSACTIONS.c.reference == bindparam("reference"), TRANSFERS.c.kind == "pending"
)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


AccountKey = tuple[str, str, str, str]  # owner kind, owner id, purpose, currency


# PostgreSQL: find the accounts and create the missing ones in one round trip. The SELECT
# half reads the statement's snapshot, so an account another writer committed after it began
# is in neither half; the caller looks that one up again. The keys come as one VALUES row
# each, not as arrays: PostgreSQL then knows how many there are and keeps the prepared
# statement's generic plan (for arrays it expected 10 rows and planned every run afresh),
# and psycopg adapts six lists element by element in Python, which cost more than the rest.
_WANTED_COLUMNS = ("id", "owner_kind", "owner_id", "purpose", "currency", "restricted")
_FIND_OR_CREATE_ACCOUNTS_POSTGRESQL = """
WITH wanted (id, owner_kind, owner_id, purpose, currency, restricted) AS (
    VALUES {rows}
), created AS (
    INSERT INTO ledger_accounts (id, owner_kind, owner_id, purpose, currency,
                                 debits_must_not_exceed_credits, debits_pending, debits_posted,
                                 credits_pending, credits_posted, created_at)
    SELECT id, owner_kind, owner_id, purpose, currency, restricted, 0, 0, 0, 0,
           %(created_at)s::timestamptz
    FROM wanted
    ON CONFLICT (owner_kind, owner_id, purpose, currency) DO NOTHING
    RETURNING id, owner_kind, owner_id, purpose, currency
)
SELECT id, owner_kind, owner_id, purpose, currency FROM created
UNION ALL
SELECT a.id, a.owner_kind, a.owner_id, a.purpose, a.currency
FROM ledger_accounts AS a
JOIN wanted AS w USING (owner_kind, owner_id, purpose, currency)
"""


@functools.lru_cache(maxsize=32)
def _find_or_create_accounts_postgresql(count: int) -> str:
    """`_FIND_OR_CREATE_ACCOUNTS_POSTGRESQL` for `count` keys, built once per count."""
    row = ", ".join(
        f"%({name}_{{n}})s::{'bool' if name == 'restricted' else 'text'}"
        for name in _WANTED_COLUMNS
    )
    rows = ", ".join(f"({row.format(n=n)})" for n in range(count))
    return _FIND_OR_CREATE_ACCOUNTS_POSTGRESQL.format(rows=rows)


def account_ids(
    session: Session, keys: Sequence[AccountKey], *, create: Sequence[bool] | None = None
) -> dict[AccountKey, str]:
    """The ids of the accounts that exist among `keys`. With `create` (each key's overdraft
    rule), PostgreSQL also creates the missing ones, in one statement; SQLite only looks (its
    statements cost no round trip: the caller inserts)."""
    rows: Iterable[Sequence[Any]]
    if not keys:
        return {}
    if create is not None and _dialect(session) == "postgresql":
        params: dict[str, Any] = {"created_at": now()}
        for n, (key, restricted) in enumerate(zip(keys, create, strict=True)):
            values = (new_id("acc"), *key, restricted)
            params.update(zip([f"{name}_{n}" for name in _WANTED_COLUMNS], values, strict=True))
        sql = _find_or_create_accounts_postgresql(len(keys))
        rows = execute_on_driver(session, sql, params)
    else:  # in process on SQLite; elsewhere only the rare second look after a lost race
        rows = [
            row
            for key in keys
            for row in session.execute(_ACCOUNT_ID, dict(zip(ACCOUNT_KEY, key, strict=True)))
        ]
    return {(kind, owner, purpose, currency): i for i, kind, owner, purpose, currency in rows}


def insert_account(session: Session, key: AccountKey, restricted: bool) -> str | None:
    """A new empty account's id, or None when the account already exists (on PostgreSQL, a
    concurrent uncommitted insert of the same account makes this wait for its outcome)."""
    row = {
        "id": new_id("acc"),
        **dict(zip(ACCOUNT_KEY, key, strict=True)),
        "debits_must_not_exceed_credits": restricted,
        **dict.fromkeys(BALANCE_COLUMNS, 0),
        "created_at": now(),
    }
    created: str | None = session.scalar(_INSERT_ACCOUNT[_dialect(session)], row)
    return created


def lock_balances(session: Session, account_ids: Sequence[str]) -> dict[str, Balances]:
    """Lock the accounts in id order (a fixed order, so two writers cannot deadlock) and
    return their balance columns as they are now."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    rows: Sequence[Sequence[Any]]
    if _dialect(session) == "postgresql":
        statement = _lock_balances_postgresql(len(ids))
        rows = execute_prebuilt(session, statement, {f"id_{n}": i for n, i in enumerate(ids)})
    else:
        rows = session.execute(_LOCK_BALANCES_SQLITE, {"ids": ids}).all()
    return {row[0]: Balances(*row) for row in rows}


def _expire_loaded(session: Session, accounts: Sequence[Balances]) -> None:
    """Expire any ORM copy of the written accounts, so a later read in the same session sees
    the new figures."""
    for a in accounts:
        loaded = session.identity_map.get(session.identity_key(LedgerAccount, a.id))
        if loaded is not None:
            session.expire(loaded)


# PostgreSQL: the transaction, the balances and the transfers in one statement, one round
# trip instead of three. The balances and transfers are written only when the transaction's
# reference was free and the hold it resolves (if any) was not resolved yet, so a duplicate
# leaves nothing behind and the caller's transaction usable. The resolution is looked for
# here, not before: the caller holds the hold's account locks, so no resolver can commit
# between this statement's snapshot and its commit (READ COMMITTED takes a snapshot per
# statement, after the locking SELECT returned). The transfers' foreign key to the new
# transaction is checked at the end of the statement, when the row is there. The rows travel
# as two JSON documents: psycopg adapts a Python list to an array element by element in
# Python, which cost more client CPU than the rest of the statement; `json.dumps` is C.
# The accounts are also named by id in an array, so the UPDATE finds them by primary key:
# the planner guesses 100 rows for any json_to_recordset, and against that guess it hashed
# a sequential scan of the whole accounts table, one more row per order, on every write.
_WRITE_TRANSACTION_POSTGRESQL = """
WITH resolved AS (
    SELECT EXISTS (SELECT FROM ledger_transfers WHERE resolves_id = %(unresolved)s::text) AS yes
), tx AS (
    INSERT INTO ledger_transactions (id, kind, reference, order_id, memo, details, created_at)
    SELECT %(id)s::text, %(kind)s::text, %(reference)s::text, %(order_id)s::text,
           %(memo)s::text, %(details)s::json, %(created_at)s::timestamptz
    WHERE NOT (SELECT yes FROM resolved)
    ON CONFLICT (reference) DO NOTHING
    RETURNING id
), balances AS (
    UPDATE ledger_accounts AS a
    SET debits_pending = b.debits_pending, debits_posted = b.debits_posted,
        credits_pending = b.credits_pending, credits_posted = b.credits_posted
    FROM json_to_recordset(%(balances)s::json)
         AS b(id text, debits_pending bigint, debits_posted bigint, credits_pending bigint,
              credits_posted bigint)
    WHERE a.id = ANY(%(account_ids)s::text[]) AND a.id = b.id AND EXISTS (SELECT FROM tx)
), transfers AS (
    INSERT INTO ledger_transfers (id, transaction_id, debit_account_id, credit_account_id,
                                  amount, currency, kind, resolves_id, pending_amount,
                                  created_at)
    SELECT t.id, tx.id, t.debit_account_id, t.credit_account_id, t.amount, t.currency, t.kind,
           t.resolves_id, t.pending_amount, t.created_at
    FROM tx, json_to_recordset(%(transfers)s::json)
         AS t(id text, debit_account_id text, credit_account_id text, amount bigint,
              currency text, kind text, resolves_id text, pending_amount bigint,
              created_at timestamptz)
)
SELECT (SELECT id FROM tx), (SELECT yes FROM resolved)
"""
_TRANSFER_COLUMNS = (
    "id",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "currency",
    "kind",
    "resolves_id",
    "pending_amount",
)


Written = Literal["written", "duplicate", "resolved"]


def write_transaction(
    session: Session,
    transaction: dict[str, Any],
    accounts: Sequence[Balances],
    transfers: Sequence[dict[str, Any]],
    *,
    unresolved: str | None = None,
) -> Written:
    """Record a transaction with its transfers and the locked accounts' new balance columns,
    unless its reference was already recorded ("duplicate") or the pending transfer
    `unresolved` was resolved meanwhile ("resolved"): nothing is written then."""
    if _dialect(session) == "postgresql":
        params = {
            **transaction,
            "unresolved": unresolved,
            "account_ids": [a.id for a in accounts],
            "details": json.dumps(transaction["details"]),
            "balances": json.dumps(
                [
                    {"id": a.id, **{name: getattr(a, name) for name in BALANCE_COLUMNS}}
                    for a in accounts
                ]
            ),
            "transfers": json.dumps(
                [
                    {
                        **{name: t[name] for name in _TRANSFER_COLUMNS},
                        "created_at": t["created_at"].isoformat(),
                    }
                    for t in transfers
                ]
            ),
        }
        [(transaction_id, resolved)] = execute_on_driver(
            session, _WRITE_TRANSACTION_POSTGRESQL, params
        )
        if resolved:
            return "resolved"
        if transaction_id is None:
            return "duplicate"
    else:  # SQLite runs in process: separate statements cost no round trips
        if unresolved is not None and is_resolved(session, unresolved):
            return "resolved"
        if session.scalar(_INSERT_TRANSACTION, transaction) is None:
            return "duplicate"
        session.execute(
            _WRITE_BALANCES,
            [
                {"account_id": a.id, **{f"new_{n}": getattr(a, n) for n in BALANCE_COLUMNS}}
                for a in accounts
            ],
        )
        if transfers:
            session.execute(_INSERT_TRANSFERS, list(transfers))
    _expire_loaded(session, accounts)
    return "written"


def is_resolved(session: Session, pending_id: str) -> bool:
    return session.scalar(_RESOLUTION, {"pending_id": pending_id}) is not None


def pending_transfer(session: Session, transfer_id: str) -> PendingHold | None:
    rows = execute_prebuilt(session, _PENDING_BY_ID, {"transfer_id": transfer_id})
    return PendingHold(*rows[0]) if rows else None


def pending_hold_by_reference(session: Session, reference: str) -> PendingHold | None:
    rows = execute_prebuilt(session, _PENDING_BY_REFERENCE, {"reference": reference})
    return PendingHold(*rows[0]) if rows else None


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


def transaction_by_reference(session: Session, reference: str) -> LedgerTransaction | None:
    return session.scalars(
        select(LedgerTransaction).where(LedgerTransaction.reference == reference)
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


def order_movements(session: Session, order_id: str) -> list[dict[str, Any]]:
    """Every transfer of the order's ledger transactions, oldest first, with both accounts'
    purpose and owner (for the order's dossier)."""
    debit = LedgerAccount.__table__.alias("debit")
    credit = LedgerAccount.__table__.alias("credit")
    query = (
        select(
            LedgerTransaction.id.label("transaction_id"),
            LedgerTransaction.kind.label("transaction_kind"),
            LedgerTransaction.reference,
            LedgerTransaction.memo,
            LedgerTransfer.id.label("transfer_id"),
            LedgerTransfer.kind.label("transfer_kind"),
            LedgerTransfer.amount,
            LedgerTransfer.currency,
            LedgerTransfer.created_at,
            debit.c.purpose.label("debit_purpose"),
            debit.c.owner_id.label("debit_owner"),
            credit.c.purpose.label("credit_purpose"),
            credit.c.owner_id.label("credit_owner"),
        )
        .join(LedgerTransfer, LedgerTransfer.transaction_id == LedgerTransaction.id)
        .join(debit, debit.c.id == LedgerTransfer.debit_account_id)
        .join(credit, credit.c.id == LedgerTransfer.credit_account_id)
        .where(LedgerTransaction.order_id == order_id)
        .order_by(LedgerTransfer.created_at, LedgerTransfer.id)
    )
    return [dict(row._mapping) for row in session.execute(query)]
