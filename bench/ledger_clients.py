"""What one client of bench/ledger.py does: a cycle of escrow operations (hold, release,
hold, refund) through the service layer or as raw SQL, and the thread loop that repeats it.

The raw SQL floor (`RawLedger`) sends what `pappus.ledger.book` makes the database do for each
operation, without the ORM and without lookups: lock the accounts in id order, check the
balance rule on the locked rows, UPDATE the balance columns, INSERT the transaction, its
transfers and the audit trail's entry for it, in one transaction.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from api_workflow import libpq_url
from harness import CpuMeter, LoadResult, Progress, StepStats, Tally

CURRENCY = "CNY"
WALLET_FUNDS = 10**15  # minor units per brand wallet: more than any run can hold
ESCROW = 120_000  # one hold; a release splits it into the three amounts below
TO_CREATOR, TO_PLATFORM, TO_BRAND = 95_000, 15_000, 10_000
CREATORS = 64  # creator_pending accounts the releases pay, round robin
# Orders held and refunded before the cell, so that it measures a book in service, not an
# empty one (see `seed_history`).
HISTORY_ORDERS = 10_000
HOLD, RELEASE, REFUND = "hold", "release (3 legs)", "refund (void)"


# -- the book a cell works on ---------------------------------------------------------------


@dataclass
class BookSetup:
    """The accounts a cell works on: one funded brand wallet per client, creators, platform."""

    url: str
    backend: str
    wallet_owners: list[str]
    wallet_ids: list[str]
    creator_owners: list[str]
    creator_ids: list[str]
    platform_ids: dict[str, str]  # the platform revenue accounts, by owner id


def prepare_book(url: str, backend: str, wallets: int) -> BookSetup:
    """Fund `wallets` brand wallets with a deposit each (deposit_clearing -> brand_wallet),
    and open the creator and platform accounts the releases pay into, in a book with a
    history (`seed_history`)."""
    from pappus.db import Database
    from pappus.ledger import book
    from pappus.ledger.book import Leg

    db = Database(url)
    try:
        seed_history(db)
        with db.unit_of_work() as session:
            clearing = book.account_id(session, "deposit_clearing", "sandbox", CURRENCY)
            owners = [f"org_bench_{n:03d}" for n in range(wallets)]
            wallet_ids = []
            for owner in owners:
                wallet = book.account_id(session, "brand_wallet", owner, CURRENCY)
                legs = [Leg(clearing, wallet, WALLET_FUNDS)]
                book.post(session, "deposit", f"deposit:bench:{owner}", legs)
                wallet_ids.append(wallet)
            creators = [f"crt_bench_{n:03d}" for n in range(CREATORS)]
            creator_ids = [
                book.account_id(session, "creator_pending", c, CURRENCY) for c in creators
            ]
            platform = {
                owner: book.account_id(session, "platform_revenue", owner, CURRENCY)
                for owner in book.PLATFORM_REVENUE_OWNERS
            }
        return BookSetup(url, backend, owners, wallet_ids, creators, creator_ids, platform)
    finally:
        db.dispose()


def seed_history(db: Any) -> None:
    """A book in service: HISTORY_ORDERS orders that were held and refunded before the cell,
    against a wallet of their own, as the book records them (an emptied escrow account, two
    transactions and two transfers each), then ANALYZE.

    On an empty book PostgreSQL measures plans that no deployment keeps. psycopg prepares a
    statement after five runs; PostgreSQL then builds a generic plan from the tables'
    statistics and keeps it until they change. For tables of a few hundred rows those plans
    are sequential scans (the account lock, the balance UPDATE, the accounts lookup, the
    pending-hold lookups and the foreign-key checks of the transfers), and as every operation
    added rows and the cell's few seconds saw no autovacuum, the scans grew as the cell ran
    (at one client, statements of 5 ms after 200 cycles). A deployment's tables are analyzed
    by autovacuum within a minute of its first writes and have long outgrown such plans.
    """
    from sqlalchemy import insert

    from pappus.kit.clock import now
    from pappus.kit.ids import new_id
    from pappus.ledger import book
    from pappus.ledger.book import Leg
    from pappus.ledger.book_models import LedgerAccount, LedgerTransaction, LedgerTransfer

    with db.unit_of_work() as session:
        clearing = book.account_id(session, "deposit_clearing", "sandbox", CURRENCY)
        wallet = book.account_id(session, "brand_wallet", "org_history", CURRENCY)
        book.post(session, "deposit", "deposit:bench:history", [Leg(clearing, wallet, ESCROW)])
    at = now()
    accounts, transactions, transfers = [], [], []
    for n in range(HISTORY_ORDERS):
        order_id, escrow, hold = f"ord_history_{n:06d}", new_id("acc"), new_id("trf")
        accounts.append(
            {
                "id": escrow,
                "owner_kind": "order",
                "owner_id": order_id,
                "purpose": "order_escrow",
                "currency": CURRENCY,
                "debits_must_not_exceed_credits": True,
                **dict.fromkeys(BALANCES, 0),
                "created_at": at,
            }
        )
        refund = {"to_creator": 0, "to_platform": 0, "to_brand": ESCROW}
        for kind, step, details, transfer in (
            ("escrow_hold", "hold", {}, (hold, ESCROW, "pending", None)),
            ("escrow_refund", "settle", refund, (new_id("trf"), 0, "void_pending", hold)),
        ):
            transaction = new_id("ltx")
            transactions.append(
                {
                    "id": transaction,
                    "kind": kind,
                    "reference": f"order:{order_id}:{step}",
                    "order_id": order_id,
                    "memo": kind,
                    "details": details,
                    "created_at": at,
                }
            )
            transfer_id, amount, transfer_kind, resolves = transfer
            transfers.append(
                {
                    "id": transfer_id,
                    "transaction_id": transaction,
                    "debit_account_id": wallet,
                    "credit_account_id": escrow,
                    "amount": amount,
                    "currency": CURRENCY,
                    "kind": transfer_kind,
                    "resolves_id": resolves,
                    "pending_amount": ESCROW,
                    "created_at": at,
                }
            )
    with db.unit_of_work() as session:
        for model, rows in (
            (LedgerAccount, accounts),
            (LedgerTransaction, transactions),
            (LedgerTransfer, transfers),
        ):
            session.execute(insert(model.__table__), rows)
    analyze(db.url)


# -- what one client does: a cycle of hold, release, hold, refund ---------------------------

Cycle = Callable[[Tally], None]


def rotated(items: list[str], start: int) -> list[str]:
    """`items` starting at `start` (modulo), so clients begin with different creators."""
    start %= len(items)
    return items[start:] + items[:start]


FAILED = object()  # what `timed` returns when the operation raised


def timed(tally: Tally, step: str, operation: Callable[[], Any]) -> Any:
    """Run one operation (one transaction), timing it: its result, or FAILED (counted)."""
    stats = tally.step(step)
    started = time.perf_counter()
    try:
        result = operation()
    except Exception as exc:
        stats.failed(None, f"{type(exc).__name__}: {exc}")
        return FAILED
    stats.ok(time.perf_counter() - started)
    return result


@contextmanager
def service_client(db: Any, setup: BookSetup, worker: int, finished: list[str]) -> Iterator[Cycle]:
    """The service layer, as the order workflow calls it; one unit of work per operation."""
    from pappus.kit.ids import new_id
    from pappus.ledger import service as ledger

    organization = setup.wallet_owners[worker]
    creators = itertools.cycle(rotated(setup.creator_owners, worker))

    def in_transaction(operation: Callable[[Any], Any]) -> Callable[[], None]:
        def run() -> None:
            with db.unit_of_work() as session:
                operation(session)

        return run

    def hold(order_id: str, creator: str) -> Callable[[], None]:
        escrow = ledger.EscrowHold(order_id, organization, creator, CURRENCY, ESCROW)
        return in_transaction(lambda session: ledger.place_escrow_hold(session, escrow))

    def settle(order_id: str, to_creator: int, to_platform: int) -> Callable[[], None]:
        to_brand = ESCROW - to_creator - to_platform
        split = ledger.EscrowSettlement(order_id, to_creator, to_platform, to_brand, "bench")
        return in_transaction(lambda session: ledger.settle_escrow(session, split))

    def cycle(tally: Tally) -> None:
        creator = next(creators)
        released, refunded = new_id("ord"), new_id("ord")
        for order_id, ending, end in (
            (released, RELEASE, settle(released, TO_CREATOR, TO_PLATFORM)),
            (refunded, REFUND, settle(refunded, 0, 0)),
        ):
            if timed(tally, HOLD, hold(order_id, creator)) is FAILED:
                continue
            if timed(tally, ending, end) is not FAILED:
                finished.append(order_id)

    yield cycle


BALANCES = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")


@dataclass
class Held:
    order_id: str
    escrow_id: str
    transfer_id: str


class RawLedger:
    """One client's connection doing by hand what the book does for an escrow operation: lock
    the accounts in id order, check the balance rule on the locked rows, UPDATE the balance
    columns and INSERT the transaction, its transfers and its audit entry, in one transaction.
    No ORM, no lookups by reference (the client remembers its ids)."""

    def __init__(self, connection: Any, postgres: bool) -> None:
        self.connection, self.postgres = connection, postgres
        self.statements = 0  # sent, without BEGIN/COMMIT
        p = "%s" if postgres else "?"
        self.p = p
        self.insert_account = (
            "INSERT INTO ledger_accounts (id, owner_kind, owner_id, purpose, currency, "
            "debits_must_not_exceed_credits, debits_pending, debits_posted, credits_pending, "
            f"credits_posted, created_at) VALUES ({p}, 'order', {p}, 'order_escrow', {p}, "
            f"{p}, 0, 0, 0, 0, {p})"
        )
        self.insert_transaction = (
            "INSERT INTO ledger_transactions (id, kind, reference, order_id, memo, details, "
            f"created_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})"
        )
        self.insert_transfer = (
            "INSERT INTO ledger_transfers (id, transaction_id, debit_account_id, "
            "credit_account_id, amount, currency, kind, resolves_id, pending_amount, "
            f"created_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})"
        )
        self.insert_audit_entry = (
            "INSERT INTO audit_entries (at, actor_kind, actor_id, action, subject_kind, "
            f"subject_id, data) VALUES ({p}, 'system', NULL, 'ledger.transfer', "
            f"'ledger_transaction', {p}, {p})"
        )
        self.update_balances = (
            f"UPDATE ledger_accounts SET debits_pending = {p}, debits_posted = {p}, "
            f"credits_pending = {p}, credits_posted = {p} WHERE id = {p}"
        )

    # -- the pieces

    def _execute(self, sql: str, params: Any = ()) -> Any:
        self.statements += 1
        return self.connection.execute(sql, params)

    def _execute_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self.statements += 1
        if self.postgres:
            with self.connection.cursor() as cursor:
                cursor.executemany(sql, rows)  # pipelined by psycopg
        else:
            self.connection.executemany(sql, rows)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if not self.postgres:
            self.connection.execute("BEGIN IMMEDIATE")  # as the app's writing sessions do
        try:
            yield
        except BaseException:
            self.connection.rollback()
            raise
        self.connection.commit()

    def _now(self) -> Any:
        moment = datetime.now(UTC)
        # SQLAlchemy's storage format for DateTime on SQLite; a timestamptz on PostgreSQL.
        return moment if self.postgres else moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    def _json(self, value: dict[str, Any]) -> Any:
        if self.postgres:
            from psycopg.types.json import Json

            return Json(value)
        return json.dumps(value)

    def _lock(self, ids: list[str]) -> dict[str, dict[str, int]]:
        """The accounts' rule flag and balance columns, locked, by id."""
        marks = ", ".join([self.p] * len(ids))
        sql = (
            f"SELECT id, debits_must_not_exceed_credits, {', '.join(BALANCES)} "
            f"FROM ledger_accounts WHERE id IN ({marks}) ORDER BY id"
        )
        if self.postgres:
            sql += " FOR NO KEY UPDATE"
        rows = self._execute(sql, sorted(ids)).fetchall()
        if len(rows) != len(set(ids)):
            raise ValueError("an account of the operation is missing")
        return {row[0]: dict(zip(("restricted", *BALANCES), row[1:], strict=True)) for row in rows}

    def _write(self, accounts: dict[str, dict[str, int]]) -> None:
        """Check the balance rule on the locked rows, then UPDATE their balance columns."""
        for account_id, a in accounts.items():
            if a["restricted"] and a["debits_posted"] + a["debits_pending"] > a["credits_posted"]:
                raise ValueError(f"account {account_id} would be overdrawn")
        rows = [(*(a[c] for c in BALANCES), account_id) for account_id, a in accounts.items()]
        self._execute_many(self.update_balances, rows)

    def _transaction_row(
        self, kind: str, reference: str, order_id: str, details: dict[str, Any]
    ) -> str:
        from pappus.kit.ids import new_id

        txn_id = new_id("ltx")
        params = (txn_id, kind, reference, order_id, kind, self._json(details), self._now())
        self._execute(self.insert_transaction, params)
        return txn_id

    def _transfer(
        self,
        txn_id: str,
        debit: str,
        credit: str,
        amount: int,
        kind: str,
        resolves: str | None = None,
        pending_amount: int = 0,
    ) -> tuple[Any, ...]:
        from pappus.kit.ids import new_id

        return (
            *(new_id("trf"), txn_id, debit, credit, amount, CURRENCY, kind, resolves),
            *(pending_amount, self._now()),
        )

    def _audit(self, txn_id: str, transfers: list[tuple[Any, ...]]) -> None:
        """The trail's entry for the ledger transaction, with its transfers, as the book
        writes it at commit."""
        keys = ("id", "transaction_id", "debit", "credit", "amount", "currency", "kind", "resolves")
        data = {"transfers": [dict(zip(keys, t, strict=False)) for t in transfers]}
        self._execute(self.insert_audit_entry, (self._now(), txn_id, self._json(data)))

    # -- the operations

    def hold(self, wallet_id: str, order_id: str, creator: str) -> Held:
        from pappus.kit.ids import new_id

        with self._transaction():
            escrow_id = new_id("acc")
            self._execute(self.insert_account, (escrow_id, order_id, CURRENCY, True, self._now()))
            accounts = self._lock([wallet_id, escrow_id])
            details = {"organization_id": wallet_id, "creator_id": creator}
            txn_id = self._transaction_row(
                "escrow_hold", f"order:{order_id}:hold", order_id, details
            )
            accounts[wallet_id]["debits_pending"] += ESCROW
            accounts[escrow_id]["credits_pending"] += ESCROW
            self._write(accounts)
            row = self._transfer(txn_id, wallet_id, escrow_id, ESCROW, "pending", None, ESCROW)
            self._execute(self.insert_transfer, row)
            self._audit(txn_id, [row])
        return Held(order_id, escrow_id, row[0])

    def release(self, held: Held, wallet_id: str, creator_id: str, platform_id: str) -> None:
        posted = TO_CREATOR + TO_PLATFORM
        with self._transaction():
            escrow = held.escrow_id
            accounts = self._lock([wallet_id, escrow, creator_id, platform_id])
            details = {"to_creator": TO_CREATOR, "to_platform": TO_PLATFORM, "to_brand": TO_BRAND}
            reference = f"order:{held.order_id}:settle"
            txn_id = self._transaction_row("escrow_release", reference, held.order_id, details)
            wallet, escrow_account = accounts[wallet_id], accounts[escrow]
            wallet["debits_pending"] -= ESCROW  # the hold ends; what is kept is posted
            wallet["debits_posted"] += posted
            escrow_account["credits_pending"] -= ESCROW
            escrow_account["credits_posted"] += posted
            escrow_account["debits_posted"] += posted  # paid on to the creator and platform
            accounts[creator_id]["credits_posted"] += TO_CREATOR
            accounts[platform_id]["credits_posted"] += TO_PLATFORM
            self._write(accounts)
            legs = [
                self._transfer(
                    txn_id, wallet_id, escrow, posted, "post_pending", held.transfer_id, ESCROW
                ),
                self._transfer(txn_id, escrow, creator_id, TO_CREATOR, "posted"),
                self._transfer(txn_id, escrow, platform_id, TO_PLATFORM, "posted"),
            ]
            self._execute_many(self.insert_transfer, legs)
            self._audit(txn_id, legs)

    def refund(self, held: Held, wallet_id: str) -> None:
        with self._transaction():
            accounts = self._lock([wallet_id, held.escrow_id])
            reference = f"order:{held.order_id}:settle"
            details = {"to_creator": 0, "to_platform": 0, "to_brand": ESCROW}
            txn_id = self._transaction_row("escrow_refund", reference, held.order_id, details)
            accounts[wallet_id]["debits_pending"] -= ESCROW
            accounts[held.escrow_id]["credits_pending"] -= ESCROW
            self._write(accounts)
            row = self._transfer(
                txn_id, wallet_id, held.escrow_id, 0, "void_pending", held.transfer_id, ESCROW
            )
            self._execute(self.insert_transfer, row)
            self._audit(txn_id, [row])


def raw_connection(setup: BookSetup) -> Any:
    """A driver connection with the app's settings (the SQLite pragmas of pappus.db)."""
    if setup.backend == "postgresql":
        import psycopg

        return psycopg.connect(libpq_url(setup.url))
    connection = sqlite3.connect(
        setup.url.removeprefix("sqlite:///"),
        timeout=30,
        isolation_level=None,  # BEGIN and COMMIT are ours, as in pappus.db
        check_same_thread=False,  # opened here, used by the client's thread
    )
    for pragma in ("foreign_keys=ON", "busy_timeout=30000", "journal_mode=WAL"):
        connection.execute(f"PRAGMA {pragma}")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def analyze(url: str) -> None:
    """On PostgreSQL, ANALYZE the database, as autovacuum does a deployment's (see
    `seed_history`). SQLite gathers no statistics unless asked to, so it is left as it is."""
    if not url.startswith("postgresql"):
        return
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute("ANALYZE")


@contextmanager
def floor_client(
    setup: BookSetup, worker: int, finished: list[str], raw: list[RawLedger]
) -> Iterator[Cycle]:
    from pappus.kit.ids import new_id
    from pappus.ledger.book import platform_revenue_owner

    connection = raw_connection(setup)
    ledger = RawLedger(connection, setup.backend == "postgresql")
    raw.append(ledger)
    wallet = setup.wallet_ids[worker]
    creators = itertools.cycle(rotated(setup.creator_ids, worker))

    def platform(order_id: str) -> str:  # the revenue account the book would credit
        return setup.platform_ids[platform_revenue_owner(order_id)]

    def cycle(tally: Tally) -> None:
        creator = next(creators)
        for ending in (RELEASE, REFUND):
            order_id = new_id("ord")
            held = timed(tally, HOLD, partial(ledger.hold, wallet, order_id, creator))
            if held is FAILED:
                continue
            if ending == RELEASE:
                end = partial(ledger.release, held, wallet, creator, platform(order_id))
            else:
                end = partial(ledger.refund, held, wallet)
            if timed(tally, ending, end) is not FAILED:
                finished.append(order_id)

    try:
        yield cycle
    finally:
        connection.close()


@dataclass
class Clients:
    """A cell's clients (or one process's share of them), open."""

    cycles: list[Cycle]
    db: Any = None  # the service layer's Database
    raw: list[RawLedger] = field(default_factory=list)  # the floor's ledgers, one per client


def open_clients(
    stack: ExitStack, layer: str, setup: BookSetup, workers: list[int], finished: list[str]
) -> Clients:
    """The clients numbered `workers` of the floor or the service layer, closed by `stack`."""
    if layer == "service":
        from pappus.db import Database

        db = Database(setup.url, pool_size=len(workers), max_overflow=2)
        stack.callback(db.dispose)
        cycles = [stack.enter_context(service_client(db, setup, n, finished)) for n in workers]
        return Clients(cycles, db=db)
    raw: list[RawLedger] = []
    cycles = [stack.enter_context(floor_client(setup, n, finished, raw)) for n in workers]
    return Clients(cycles, raw=raw)


# -- the thread load loop (floor and service layer) -----------------------------------------


def merge(tallies: list[Tally]) -> Tally:
    """The clients' tallies as one."""
    merged = Tally()
    names = dict.fromkeys(name for tally in tallies for name in tally.steps)
    for name in names:
        merged.steps[name] = combined([t.steps[name] for t in tallies if name in t.steps])
    return merged


def run_threads(
    label: str,
    seconds: float,
    cycles: list[Cycle],
    *,
    transient: bool = False,
    quiet: bool = False,
) -> LoadResult:
    """Each client thread repeats its cycle until `seconds` pass; no cycle starts after that
    and the running ones finish (their time counts). Bounded by construction. `quiet`: no
    progress line (a child process of `run_processes`)."""
    progress = Progress(
        label, round(seconds, 1), " s", transient=transient or quiet, quiet_when_piped=True
    )
    if quiet:
        progress.tty = False  # and transient: nothing is printed
    tallies = [Tally() for _ in cycles]
    crashed: list[BaseException] = []
    stop = threading.Event()
    meter = CpuMeter(None)
    started = time.perf_counter()
    deadline = started + seconds

    def client(cycle: Cycle, tally: Tally) -> None:
        try:
            while time.perf_counter() < deadline and not stop.is_set():
                cycle(tally)
        except BaseException as exc:  # a bug of the benchmark: stop everyone, report it
            crashed.append(exc)
            stop.set()

    threads = [
        threading.Thread(target=client, args=(cycle, tally), name=f"client-{n}", daemon=True)
        for n, (cycle, tally) in enumerate(zip(cycles, tallies, strict=True))
    ]
    for thread in threads:
        thread.start()
    try:
        while alive := [t for t in threads if t.is_alive()]:
            alive[0].join(0.25)
            elapsed = min(time.perf_counter() - started, seconds)
            done = sum(t.count() for t in tallies)
            progress.update(round(elapsed, 1), f"{done:,} ok")
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    elapsed = time.perf_counter() - started
    cpu = meter.read()
    if crashed:
        raise crashed[0]
    merged = merge(tallies)
    progress.done(f"{merged.count():,} ok in {elapsed:.1f} s")
    return LoadResult(merged, elapsed, False, cpu)


class StatementCounter(Tally):
    """A Tally that also notes how many statements each operation sent: `timed` asks for an
    operation's step just before running it, which marks where the previous one ended."""

    def __init__(self, sent: Callable[[], int]) -> None:
        super().__init__()
        self.sent = sent
        self.current: str | None = None
        self.mark = 0
        self.per_operation: dict[str, list[int]] = {}

    def step(self, name: str) -> StepStats:
        self.close()
        self.current, self.mark = name, self.sent()
        return super().step(name)

    def close(self) -> None:
        if self.current is not None:
            self.per_operation.setdefault(self.current, []).append(self.sent() - self.mark)
            self.current = None

    def averages(self) -> dict[str, float]:
        self.close()
        return {k: round(sum(v) / len(v), 1) for k, v in self.per_operation.items()}


def count_service_statements(db: Any, cycle: Cycle) -> dict[str, float]:
    """Statements per operation of one cycle through the service layer (SAVEPOINT and
    RELEASE count; BEGIN and COMMIT do not). On PostgreSQL they are counted where psycopg
    sends them: the book's hottest statements bypass SQLAlchemy's events
    (`pappus.db.execute_on_driver`)."""
    cycle(Tally())  # uncounted: a new connection's first statements are the dialect's set-up
    sent = [0]
    counter = StatementCounter(lambda: sent[0])
    if db.is_sqlite:
        from sqlalchemy import event

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if not statement.startswith("BEGIN"):
                sent[0] += 1

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            cycle(counter)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return counter.averages()
    import psycopg

    def counted(send: Callable[..., Any]) -> Callable[..., Any]:
        def run(cursor: Any, *args: Any, **kwargs: Any) -> Any:
            sent[0] += 1
            return send(cursor, *args, **kwargs)

        return run

    originals = {name: getattr(psycopg.Cursor, name) for name in ("execute", "executemany")}
    try:
        for name, send in originals.items():
            setattr(psycopg.Cursor, name, counted(send))
        cycle(counter)
    finally:
        for name, send in originals.items():
            setattr(psycopg.Cursor, name, send)
    return counter.averages()


def combined(steps: list[StepStats]) -> StepStats:
    total = StepStats()
    for stats in steps:
        total.latencies += stats.latencies
        total.contention += stats.contention
        total.server_errors += stats.server_errors
        total.other_errors += stats.other_errors
        total.examples = (total.examples + stats.examples)[:3]
    return total


# -- clients in several processes (floor and service layer) --------------------------------


def _client_process(
    layer: str,
    setup: BookSetup,
    workers: list[int],
    warmup: float,
    seconds: float,
    results: Any,
    release: Any,
) -> None:
    """One process's share of a cell's clients, as threads. Puts on `results` their tally,
    the orders they finished, the time they ran and the CPU seconds used meanwhile (or the
    error), then keeps its connections open until `release` is set, so that the parent can
    read PostgreSQL's CPU while their server processes still exist."""
    finished: list[str] = []
    try:
        with ExitStack() as stack:
            cycles = open_clients(stack, layer, setup, workers, finished).cycles
            run_threads("warm-up", warmup, cycles, transient=True, quiet=True)
            used_before = time.process_time()
            result = run_threads("clients", seconds, cycles, quiet=True)
            used = time.process_time() - used_before
            results.put((result.tally, finished, result.elapsed, used))
            release.wait(60)
    except BaseException as exc:  # a bug of the benchmark: the parent reports it
        results.put(f"{type(exc).__name__}: {exc}")


def run_processes(
    label: str,
    layer: str,
    setup: BookSetup,
    clients: int,
    processes: int,
    warmup: float,
    seconds: float,
    finished: list[str],
) -> LoadResult:
    """The cell's clients spread over `processes` forked processes (as equal as can be), so
    they do not share one GIL; the tallies merged, the rate over the longest share."""
    import multiprocessing
    import queue

    shares = [share for n in range(processes) if (share := list(range(clients))[n::processes])]
    progress = Progress(label, round(warmup + seconds, 1), " s", quiet_when_piped=True)
    context = multiprocessing.get_context("fork")  # the children need no fresh interpreter
    results, release = context.Queue(), context.Event()
    children = [
        context.Process(
            target=_client_process,
            args=(layer, setup, share, warmup, seconds, results, release),
            daemon=True,
        )
        for share in shares
    ]
    meter = CpuMeter(None)
    started = time.perf_counter()
    deadline = started + warmup + seconds + 60  # bounded even if a child hangs
    outcomes: list[Any] = []
    try:
        for child in children:
            child.start()
        while len(outcomes) < len(children) and time.perf_counter() < deadline:
            with suppress(queue.Empty):
                outcomes.append(results.get(timeout=0.25))
            progress.update(round(min(time.perf_counter() - started, warmup + seconds), 1))
        cpu = meter.read()  # before the children close their connections
    finally:
        release.set()
        for child in children:
            child.join(30)
            if child.is_alive():
                child.kill()
    failed = [o for o in outcomes if isinstance(o, str)]
    if failed or len(outcomes) < len(children):
        raise RuntimeError(f"a client process failed: {failed[0] if failed else 'no result'}")
    for _, done, _, _ in outcomes:
        finished += done
    elapsed = max(ran for _, _, ran, _ in outcomes)
    # The clients' CPU is the children's, not this process's; "other" is what is left.
    cpu["load_generator_pct"] = round(100 * sum(o[3] for o in outcomes) / elapsed, 1)
    known = sum(cpu.get(k) or 0.0 for k in ("server_pct", "load_generator_pct", "postgres_pct"))
    machine = cpu.get("machine_pct")
    cpu["other_pct"] = None if machine is None else round(max(0.0, machine - known), 1)
    merged = merge([tally for tally, _, _, _ in outcomes])
    progress.done(f"{merged.count():,} ok in {elapsed:.1f} s, {len(children)} processes")
    return LoadResult(merged, elapsed, False, cpu)
