"""A model-based walk over the ledger, on each database backend.

Random deposits (confirmed, declined, delivered again, contradicted by a later event), escrow
holds, releases split three ways between creator, platform and brand, refunds, maturity after
the holding period, payouts that are paid or bounced, and replays of every movement (the same
reference, the same hold, the same settlement, the same payout, a second resolution of a
resolved hold) run against an in-memory model of every account's four balance columns. After
every step the database must agree with the model to the minor unit, `check_ledger` must find
nothing, no restricted account may be overdrawn, every currency's balances must sum to zero and
the number of ledger transactions must be exactly the number of movements the model made.

Escrow holds use made-up order ids: the ledger has no foreign key to orders (an order's escrow
account is owned by the order id as a string, and a transaction's `order_id` is a plain
column), so the walk calls `place_escrow_hold` and `settle_escrow` as the order workflow does.
Deposits and payouts do need real organizations, creators and payout methods; those are made
once per test through the API, and every example starts from an empty book.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pappus.accounts.principal import Principal
from pappus.config import get_settings
from pappus.db import Base, Database
from pappus.errors import InvalidInput
from pappus.kit.clock import clock
from pappus.ledger import book, payouts
from pappus.ledger import service as ledger
from pappus.ledger.book import (
    PURPOSES,
    DuplicateReference,
    HoldAlreadyResolved,
    InsufficientFunds,
    Leg,
    platform_revenue_owner,
)
from pappus.ledger.book_models import LedgerAccount, LedgerTransaction
from pappus.ledger.check import check_ledger
from pappus.ledger.payment_models import Deposit, Payout
from pappus.ledger.payments import SANDBOX, sandbox_event, sign
from tests.fixtures.builders import World, ok

CURRENCIES = ("CNY", "USD")
HOLDING_HOURS = 24 * get_settings().creator_holding_days
MIN_PAYOUT = get_settings().min_payout_amount
# Every row that records money; deleted between examples (people and payout methods stay).
MONEY_TABLES = ("ledger_transfers", "ledger_transactions", "payouts", "ledger_accounts", "deposits")

Key = tuple[str, str, str]  # (purpose, owner id, currency)
# debits_pending, debits_posted, credits_pending, credits_posted
Columns = tuple[int, int, int, int]

# Amounts dense around the sandbox's "ends in 13" rule and small edges.
deposit_amounts = st.one_of(
    st.integers(100, 3_000_000),
    st.sampled_from([100, 1_013, 250_000, 1_000_000]),
    st.integers(1, 20_000).map(lambda n: n * 100 + 13),
)
hold_amounts = st.one_of(st.integers(0, 1_500_000), st.sampled_from([0, 1, 110_000, 550_000]))
payout_amounts = st.one_of(
    st.integers(MIN_PAYOUT, 600_000),
    st.integers(MIN_PAYOUT // 100 + 1, 6_000).map(lambda n: n * 100 + 13),
)
# Around the end of the holding period, where maturity flips.
hours = st.sampled_from(
    sorted(
        {1, 24, 72, HOLDING_HOURS - 1, HOLDING_HOURS, HOLDING_HOURS + 1, 2 * HOLDING_HOURS}
        - {0, -1}
    )
)


# -- the model ------------------------------------------------------------------------------


@dataclass
class ModelBook:
    """The four balance columns of every account the walk has touched."""

    columns: dict[Key, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0] * 4))

    def hold(self, debit: Key, credit: Key, amount: int) -> None:
        self.columns[debit][0] += amount
        self.columns[credit][2] += amount

    def post(self, debit: Key, credit: Key, amount: int) -> None:
        self.columns[debit][1] += amount
        self.columns[credit][3] += amount

    def resolve(self, debit: Key, credit: Key, held: int, posted: int) -> None:
        self.columns[debit][0] -= held
        self.columns[credit][2] -= held
        self.post(debit, credit, posted)

    def available(self, key: Key) -> int:
        dp, dpo, _, cpo = self.columns.get(key, [0] * 4)
        return cpo - dpo - dp

    def nonzero(self) -> dict[Key, Columns]:
        return {k: (v[0], v[1], v[2], v[3]) for k, v in self.columns.items() if any(v)}


@dataclass
class ModelDeposit:
    id: str
    provider_ref: str
    organization_id: str
    amount: int
    currency: str
    status: str = "pending"


@dataclass
class ModelHold:
    order_id: str
    organization_id: str
    creator_id: str
    currency: str
    amount: int
    settled: bool = False


@dataclass
class ModelRelease:
    transaction_id: str
    creator_id: str
    currency: str
    amount: int
    at_hours: int
    matured: bool = False


@dataclass
class ModelPayout:
    id: str
    creator_id: str
    currency: str
    amount: int
    status: str = "processing"


def wallet(org: str, currency: str) -> Key:
    return ("brand_wallet", org, currency)


def escrow(order_id: str, currency: str) -> Key:
    return ("order_escrow", order_id, currency)


def creator_pending(creator_id: str, currency: str) -> Key:
    return ("creator_pending", creator_id, currency)


def creator_available(creator_id: str, currency: str) -> Key:
    return ("creator_available", creator_id, currency)


def revenue(order_id: str, currency: str) -> Key:
    return ("platform_revenue", platform_revenue_owner(order_id), currency)


def deposit_clearing(currency: str) -> Key:
    return ("deposit_clearing", SANDBOX, currency)


def payout_clearing(currency: str) -> Key:
    return ("payout_clearing", SANDBOX, currency)


def account_id(session: Session, key: Key) -> str:
    return book.account_id(session, *key)


# -- the people -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Parties:
    brands: tuple[Principal, ...]
    creators: tuple[Principal, ...]
    methods: tuple[str, ...]  # a verified payout method per creator


def gather(world: World) -> Parties:
    brands, creators, methods = [], [], []
    for _ in range(2):
        who = world.brand(funded=0)
        assert who.organization_id is not None
        brands.append(
            Principal(kind="brand", user_id=who.user_id, roles={who.organization_id: "owner"})
        )
    for _ in range(2):
        who = world.creator()
        creators.append(Principal(kind="creator", user_id=who.user_id, creator_id=who.creator_id))
        method = ok(
            world.client.post(
                "/api/v1/payout-methods",
                json={"kind": "alipay", "holder_name": "Lin", "account_number": "13800138000"},
                headers=who.headers,
            ),
            201,
        )
        methods.append(str(method["id"]))
    return Parties(tuple(brands), tuple(creators), tuple(methods))


def org_of(principal: Principal) -> str:
    return next(iter(principal.roles))


def forget_money(db: Database) -> None:
    with db.engine.begin() as conn:
        for name in MONEY_TABLES:
            conn.execute(Base.metadata.tables[name].delete())


def deposit_event(deposit: ModelDeposit, kind: str) -> bytes:
    if kind == "natural":  # what the sandbox provider itself would send
        return sandbox_event(deposit.provider_ref, deposit.amount, deposit.currency)
    event: dict[str, Any] = {
        "id": "evt_walk",
        "type": kind,
        "data": {
            "provider_ref": deposit.provider_ref,
            "amount": deposit.amount,
            "currency": deposit.currency,
            "failure_reason": "declined by the walk" if kind == "deposit.failed" else None,
        },
    }
    return json.dumps(event).encode()


def natural_outcome(amount: int) -> str:
    return "deposit.failed" if amount % 100 == 13 else "deposit.succeeded"


# -- the walk -------------------------------------------------------------------------------


class LedgerWalk(RuleBasedStateMachine):
    """Rules draw what to do; the helpers below them do it and update the model."""

    def __init__(self, db: Database, parties: Parties) -> None:
        super().__init__()
        self.db = db
        self.parties = parties
        forget_money(db)
        clock.reset()
        clock.freeze()
        self.book = ModelBook()
        self.transactions = 0  # ledger transactions the model expects to exist
        self.deposits: list[ModelDeposit] = []
        self.holds: list[ModelHold] = []
        self.releases: list[ModelRelease] = []
        self.payouts: list[ModelPayout] = []
        # (reference, debit, credit, amount) of posted movements, for replays
        self.posted: list[tuple[str, Key, Key, int]] = []
        # references of pending transfers that were posted or voided
        self.resolved_holds: list[str] = []
        self.hours = 0
        with db.unit_of_work() as session:
            self.webhook_key = ledger.sandbox_webhook_secret(session)

    def teardown(self) -> None:
        clock.reset()

    # -- a random start: a funded wallet, and perhaps earnings that have matured ------------

    @initialize(
        data=st.data(),
        # the sandbox declines amounts ending in 13; the start needs a deposit that succeeds
        amount=st.integers(100_000, 3_000_000).filter(lambda a: a % 100 != 13),
        currency=st.sampled_from(CURRENCIES),
        earn=st.booleans(),
    )
    def start(self, data: st.DataObject, amount: int, currency: str, earn: bool) -> None:
        self.make_deposit(0, currency, amount, confirm=True)
        if not earn:
            return
        creator_id = self.creator_id(data.draw(st.integers(0, 1), label="creator"))
        order = self.place_hold(
            org_of(self.parties.brands[0]),
            currency,
            creator_id,
            data.draw(st.integers(amount // 10, amount), label="held"),
        )
        assert order is not None
        to_creator = data.draw(st.integers(order.amount // 2, order.amount), label="to_creator")
        self.settle_hold(order, to_creator, 0, order.amount - to_creator)
        self.pass_time(HOLDING_HOURS)
        self.mature_now()

    # -- deposits ---------------------------------------------------------------------------

    @rule(
        brand=st.integers(0, 1),
        currency=st.sampled_from(CURRENCIES),
        amount=deposit_amounts,
        confirm=st.sampled_from([True, True, False]),
    )
    def deposit(self, brand: int, currency: str, amount: int, confirm: bool) -> None:
        self.make_deposit(brand, currency, amount, confirm)

    @precondition(lambda self: self.deposits)
    @rule(
        data=st.data(),
        kind=st.sampled_from(["natural", "natural", "deposit.succeeded", "deposit.failed"]),
        deliveries=st.integers(1, 3),
    )
    def deliver_webhook(self, data: st.DataObject, kind: str, deliveries: int) -> None:
        deposit = data.draw(st.sampled_from(self.deposits), label="deposit")
        for _ in range(deliveries):  # duplicates and late contradictions change nothing
            self.deliver(deposit, kind)

    def make_deposit(self, brand: int, currency: str, amount: int, confirm: bool) -> None:
        principal = self.parties.brands[brand]
        with self.db.unit_of_work() as session:
            made = ledger.create_deposit(session, principal, org_of(principal), amount, currency)
            found = ModelDeposit(made.id, made.provider_ref, org_of(principal), amount, currency)
        self.deposits.append(found)
        if confirm:  # as the sandbox provider's job would, right away
            self.deliver(found, "natural")

    def deliver(self, deposit: ModelDeposit, kind: str) -> None:
        body = deposit_event(deposit, kind)
        with self.db.unit_of_work() as session:
            got = ledger.handle_deposit_webhook(
                session, SANDBOX, body, sign(self.webhook_key, body)
            )
            status = got.status
        if deposit.status == "pending":
            outcome = natural_outcome(deposit.amount) if kind == "natural" else kind
            deposit.status = "succeeded" if outcome == "deposit.succeeded" else "failed"
            if deposit.status == "succeeded":
                debit = deposit_clearing(deposit.currency)
                credit = wallet(deposit.organization_id, deposit.currency)
                self.book.post(debit, credit, deposit.amount)
                self.posted.append((f"deposit:{deposit.id}", debit, credit, deposit.amount))
                self.transactions += 1
        assert status == deposit.status

    # -- escrow -----------------------------------------------------------------------------

    @rule(data=st.data(), creator=st.integers(0, 1))
    def hold(self, data: st.DataObject, creator: int) -> None:
        # mostly from a wallet with money in it, sometimes from any wallet
        funded = [
            (org, cur)
            for purpose, org, cur in self.book.nonzero()
            if purpose == "brand_wallet" and self.book.available(wallet(org, cur)) > 0
        ]
        anywhere = st.tuples(
            st.sampled_from([org_of(b) for b in self.parties.brands]), st.sampled_from(CURRENCIES)
        )
        org, currency = data.draw(
            st.one_of(st.sampled_from(funded), st.sampled_from(funded), anywhere)
            if funded
            else anywhere,
            label="wallet",
        )
        available = self.book.available(wallet(org, currency))
        amount = data.draw(
            st.one_of(
                hold_amounts,
                st.integers(0, max(0, available)),
                st.integers(0, max(0, available)),
                st.sampled_from([available, available + 1]),
            ),
            label="amount",
        )
        self.place_hold(org, currency, self.creator_id(creator), amount)

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), change=st.sampled_from([-1, 0, 1, 10**9]))
    def hold_again(self, data: st.DataObject, change: int) -> None:
        order = data.draw(st.sampled_from(self.holds), label="order")
        again = ledger.EscrowHold(
            order.order_id,
            order.organization_id,
            order.creator_id,
            order.currency,
            max(0, order.amount + change),
        )
        with pytest.raises(DuplicateReference), self.db.unit_of_work() as session:
            ledger.place_escrow_hold(session, again)

    @precondition(lambda self: any(not h.settled for h in self.holds))
    @rule(data=st.data())
    def settle(self, data: st.DataObject) -> None:
        order = data.draw(st.sampled_from(self.open_holds()), label="order")
        to_creator = data.draw(
            st.one_of(st.just(0), st.just(order.amount), st.integers(0, order.amount)),
            label="to_creator",
        )
        rest = order.amount - to_creator
        to_platform = data.draw(
            st.one_of(st.just(0), st.just(rest), st.integers(0, rest)), label="to_platform"
        )
        self.settle_hold(order, to_creator, to_platform, rest - to_platform)

    @precondition(lambda self: any(not h.settled for h in self.holds))
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        order = data.draw(st.sampled_from(self.open_holds()), label="order")
        self.settle_hold(order, 0, 0, order.amount)

    @precondition(lambda self: any(h.settled for h in self.holds))
    @rule(data=st.data())
    def settle_again(self, data: st.DataObject) -> None:
        order = data.draw(st.sampled_from([h for h in self.holds if h.settled]), label="order")
        to_creator = data.draw(st.integers(0, order.amount), label="to_creator")
        again = ledger.EscrowSettlement(
            order.order_id, to_creator, 0, order.amount - to_creator, "replay"
        )
        with pytest.raises(ledger.EscrowAlreadySettled), self.db.unit_of_work() as session:
            ledger.settle_escrow(session, again)
        nothing = ledger.EscrowSettlement("ord_walk_never_held", 0, 0, 0, "never held")
        with pytest.raises(ledger.EscrowNotHeld), self.db.unit_of_work() as session:
            ledger.settle_escrow(session, nothing)

    @precondition(lambda self: any(not h.settled for h in self.holds))
    @rule(data=st.data(), off_by=st.sampled_from([-1, 1]))
    def settle_with_legs_that_do_not_add_up(self, data: st.DataObject, off_by: int) -> None:
        order = data.draw(st.sampled_from(self.open_holds()), label="order")
        wrong = ledger.EscrowSettlement(order.order_id, 0, 0, order.amount + off_by, "wrong")
        if order.amount + off_by < 0:
            wrong = ledger.EscrowSettlement(order.order_id, 0, 1, -1, "negative")
        with pytest.raises(ValueError), self.db.unit_of_work() as session:
            ledger.settle_escrow(session, wrong)

    @precondition(lambda self: self.resolved_holds)
    @rule(data=st.data(), how=st.sampled_from(["post", "void"]))
    def resolve_a_resolved_hold_again(self, data: st.DataObject, how: str) -> None:
        reference = data.draw(st.sampled_from(self.resolved_holds), label="hold")
        with pytest.raises(HoldAlreadyResolved), self.db.unit_of_work() as session:
            pending = book.pending_hold(session, reference)
            assert pending is not None
            fresh = f"walk:again:{reference}"
            # By id, as a caller outside the escrow service would.
            if how == "void":
                book.void_pending(session, "escrow_refund", fresh, pending.transfer_id)
            else:
                book.post_pending(
                    session, "escrow_release", fresh, pending.transfer_id, pending.amount
                )

    def creator_id(self, index: int) -> str:
        found = self.parties.creators[index].creator_id
        assert found is not None
        return found

    def open_holds(self) -> list[ModelHold]:
        return [h for h in self.holds if not h.settled]

    def place_hold(self, org: str, currency: str, creator_id: str, amount: int) -> ModelHold | None:
        order = ModelHold(f"ord_walk{len(self.holds):04d}", org, creator_id, currency, amount)
        request = ledger.EscrowHold(order.order_id, org, creator_id, currency, amount)
        if amount > self.book.available(wallet(org, currency)):
            with pytest.raises(InsufficientFunds), self.db.unit_of_work() as session:
                ledger.place_escrow_hold(session, request)
            return None
        with self.db.unit_of_work() as session:
            ledger.place_escrow_hold(session, request)
        self.book.hold(wallet(org, currency), escrow(order.order_id, currency), amount)
        self.holds.append(order)
        self.transactions += 1
        return order

    def settle_hold(
        self, order: ModelHold, to_creator: int, to_platform: int, to_brand: int
    ) -> None:
        with self.db.unit_of_work() as session:
            ledger.settle_escrow(
                session,
                ledger.EscrowSettlement(order.order_id, to_creator, to_platform, to_brand, "walk"),
            )
            settled = book.transaction_by_reference(session, f"order:{order.order_id}:settle")
            assert settled is not None
            transaction_id, kind = settled.id, settled.kind
        posted = to_creator + to_platform
        assert kind == ("escrow_release" if posted else "escrow_refund")
        cur, held = order.currency, escrow(order.order_id, order.currency)
        self.book.resolve(wallet(order.organization_id, cur), held, order.amount, posted)
        self.book.post(held, creator_pending(order.creator_id, cur), to_creator)
        self.book.post(held, revenue(order.order_id, cur), to_platform)
        if to_creator:
            self.releases.append(
                ModelRelease(transaction_id, order.creator_id, cur, to_creator, self.hours)
            )
        order.settled = True
        self.resolved_holds.append(f"order:{order.order_id}:hold")
        self.transactions += 1

    # -- time and maturity ------------------------------------------------------------------

    def unmatured(self) -> bool:
        return any(not r.matured for r in self.releases)

    @precondition(unmatured)
    @rule(hours=hours)
    def time_passes(self, hours: int) -> None:
        self.pass_time(hours)

    @precondition(unmatured)
    @rule()
    def mature(self) -> None:
        self.mature_now()

    @precondition(lambda self: self.posted)
    @rule(data=st.data())
    def post_a_reference_again(self, data: st.DataObject) -> None:
        reference, debit, credit, amount = data.draw(st.sampled_from(self.posted), label="ref")
        kind = reference.split(":", 1)[0]
        with pytest.raises(DuplicateReference), self.db.unit_of_work() as session:
            legs = [Leg(account_id(session, debit), account_id(session, credit), amount)]
            book.post(session, kind, reference, legs)

    def pass_time(self, hours: int) -> None:
        clock.advance(timedelta(hours=hours))
        self.hours += hours

    def mature_now(self) -> None:
        due = [
            r for r in self.releases if not r.matured and self.hours - r.at_hours >= HOLDING_HOURS
        ]
        with self.db.unit_of_work() as session:
            matured = payouts.mature_earnings(session)
        assert matured == len(due)
        for release in due:
            debit = creator_pending(release.creator_id, release.currency)
            credit = creator_available(release.creator_id, release.currency)
            self.book.post(debit, credit, release.amount)
            self.posted.append((f"mature:{release.transaction_id}", debit, credit, release.amount))
            release.matured = True
            self.transactions += 1
        with self.db.unit_of_work() as session:
            assert payouts.mature_earnings(session) == 0

    # -- payouts ----------------------------------------------------------------------------

    @precondition(lambda self: any(r.matured for r in self.releases))
    @rule(data=st.data())
    def request_payout(self, data: st.DataObject) -> None:
        # mostly from a balance that has matured earnings, sometimes from an empty one
        earned = st.sampled_from([(r.creator_id, r.currency) for r in self.releases if r.matured])
        anyone = st.tuples(st.sampled_from(self.parties.creators), st.sampled_from(CURRENCIES))
        creator_id, currency = data.draw(
            st.one_of(earned, earned, anyone.map(lambda t: (t[0].creator_id, t[1]))),
            label="balance",
        )
        available = self.book.available(creator_available(creator_id, currency))
        amount = data.draw(
            st.one_of(
                payout_amounts,
                st.integers(MIN_PAYOUT, max(MIN_PAYOUT, available)),
                st.sampled_from([available, available + 1, MIN_PAYOUT - 1, MIN_PAYOUT]),
            ),
            label="amount",
        )
        self.make_payout(creator_id, currency, amount)

    @precondition(lambda self: self.payouts)
    @rule(data=st.data(), times=st.integers(1, 2), as_job=st.booleans())
    def settle_payout(self, data: st.DataObject, times: int, as_job: bool) -> None:
        payout = data.draw(st.sampled_from(self.payouts), label="payout")
        for _ in range(times):  # a second run finds the hold resolved and changes nothing
            self.finish_payout(payout, as_job)

    def make_payout(self, creator_id: str, currency: str, amount: int) -> ModelPayout | None:
        index = [c.creator_id for c in self.parties.creators].index(creator_id)
        principal, method = self.parties.creators[index], self.parties.methods[index]

        def request(session: Session) -> Payout:
            return payouts.request_payout(session, principal, amount, currency, method)

        if amount < MIN_PAYOUT:
            with pytest.raises(InvalidInput), self.db.unit_of_work() as session:
                request(session)
            return None
        if amount > self.book.available(creator_available(creator_id, currency)):
            with pytest.raises(InsufficientFunds), self.db.unit_of_work() as session:
                request(session)
            return None
        with self.db.unit_of_work() as session:
            payout_id = request(session).id
        self.book.hold(creator_available(creator_id, currency), payout_clearing(currency), amount)
        payout = ModelPayout(payout_id, creator_id, currency, amount)
        self.payouts.append(payout)
        self.transactions += 1
        return payout

    def finish_payout(self, payout: ModelPayout, as_job: bool) -> None:
        bounced = payout.amount % 100 == 13
        expected = payout.status
        if expected == "processing":
            expected = "failed" if bounced else "paid"
        if as_job:
            status = payouts.process_payout(self.db, payout.id)
        else:
            with self.db.unit_of_work() as session:
                status = payouts.settle_payout(session, payout.id)
        assert status == expected
        if payout.status == "processing":
            debit = creator_available(payout.creator_id, payout.currency)
            credit = payout_clearing(payout.currency)
            self.book.resolve(debit, credit, payout.amount, 0 if bounced else payout.amount)
            self.resolved_holds.append(f"payout:{payout.id}:hold")
            payout.status = expected
            self.transactions += 1

    # -- after every step -------------------------------------------------------------------

    @invariant()
    def the_book_matches_the_model(self) -> None:
        with self.db.unit_of_work(write=False) as session:
            accounts = session.scalars(select(LedgerAccount)).all()
            violations = check_ledger(session, {h.order_id for h in self.holds if h.settled})
            transactions = session.scalar(select(func.count(LedgerTransaction.id)))
            deposits = {d.id: d.status for d in session.scalars(select(Deposit))}
            payout_rows = {p.id: p.status for p in session.scalars(select(Payout))}
        stored = {
            (a.purpose, a.owner_id, a.currency): (
                a.debits_pending,
                a.debits_posted,
                a.credits_pending,
                a.credits_posted,
            )
            for a in accounts
            if a.debits_pending or a.debits_posted or a.credits_pending or a.credits_posted
        }
        assert stored == self.book.nonzero()
        assert violations == []
        assert transactions == self.transactions
        assert deposits == {d.id: d.status for d in self.deposits}
        assert payout_rows == {p.id: p.status for p in self.payouts}
        posted: dict[str, int] = defaultdict(int)
        pending: dict[str, int] = defaultdict(int)
        for acc in accounts:
            assert acc.debits_must_not_exceed_credits == PURPOSES[acc.purpose][1]
            assert min(acc.debits_pending, acc.debits_posted) >= 0
            assert min(acc.credits_pending, acc.credits_posted) >= 0
            if acc.debits_must_not_exceed_credits:
                assert acc.available >= 0, (acc.purpose, acc.owner_id, acc.available)
            posted[acc.currency] += acc.balance
            pending[acc.currency] += acc.credits_pending - acc.debits_pending
        assert all(total == 0 for total in posted.values()), dict(posted)
        assert all(total == 0 for total in pending.values()), dict(pending)


def test_random_money_movements_keep_the_book_exact(world: World) -> None:
    parties = gather(world)
    try:
        run_state_machine_as_test(
            lambda: LedgerWalk(world.db, parties),
            settings=settings(
                max_examples=40,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            ),
        )
    finally:
        clock.reset()


def test_a_known_walk_ends_where_the_arithmetic_says(world: World) -> None:
    # the same helpers on a fixed path, so a broken harness cannot pass vacuously
    parties = gather(world)
    walk = LedgerWalk(world.db, parties)
    org, creator = org_of(parties.brands[0]), walk.creator_id(0)
    try:
        walk.make_deposit(0, "CNY", 1_000_000, confirm=True)
        walk.make_deposit(0, "CNY", 500_013, confirm=False)  # the sandbox declines it
        for deposit in walk.deposits:
            walk.deliver(deposit, "natural")
            walk.deliver(deposit, "deposit.succeeded")  # too late to change anything
        assert [d.status for d in walk.deposits] == ["succeeded", "failed"]
        order = walk.place_hold(org, "CNY", creator, 660_000)
        assert walk.place_hold(org, "CNY", creator, 340_001) is None  # one more than is left
        assert order is not None
        walk.settle_hold(order, 522_500, 82_500, 55_000)
        walk.pass_time(HOLDING_HOURS - 1)
        walk.mature_now()
        assert walk.unmatured()
        walk.pass_time(1)
        walk.mature_now()
        paid = walk.make_payout(creator, "CNY", 400_000)
        assert walk.make_payout(creator, "CNY", 122_501) is None  # one more than is left
        bounced = walk.make_payout(creator, "CNY", 100_013)
        assert paid is not None and bounced is not None
        for payout in (paid, bounced, paid, bounced):
            walk.finish_payout(payout, as_job=payout is bounced)
        walk.the_book_matches_the_model()
        assert (paid.status, bounced.status) == ("paid", "failed")
        columns = walk.book.nonzero()
        assert columns[creator_available(creator, "CNY")] == (0, 400_000, 0, 522_500)
        assert columns[wallet(org, "CNY")] == (0, 605_000, 0, 1_000_000)
        assert columns[revenue(order.order_id, "CNY")] == (0, 0, 0, 82_500)
        assert columns[payout_clearing("CNY")] == (0, 0, 0, 400_000)
        # deposit, hold, release, maturity, two payout holds, a payout and a return
        assert walk.transactions == 8
    finally:
        walk.teardown()
