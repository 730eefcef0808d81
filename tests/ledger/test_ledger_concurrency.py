"""Races on money, on each database backend: whatever the interleaving, a wallet or an earnings
balance is never overdrawn, one Idempotency-Key moves money once, and an order's escrow
settles once.

Every thread works in its own transaction, as separate requests or workers would. On
PostgreSQL they really run in parallel, under row locks (FOR NO KEY UPDATE on the accounts)
and advisory locks (idempotency keys); on SQLite writers queue behind BEGIN IMMEDIATE, and the
same races check that the queueing loses nothing and never answers "database is locked".
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from pappus.kit.clock import clock
from pappus.ledger import book, payouts
from pappus.ledger import service as ledger
from pappus.ledger.book import InsufficientFunds, platform_revenue_owner
from pappus.ledger.book_models import LedgerAccount, LedgerTransaction
from pappus.ledger.payment_models import Deposit
from pappus.orders import service as orders
from tests.fixtures.builders import Who, World, ok

API = "/api/v1"
REPLAYED = "idempotent-replayed"


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Start every call at the same moment, each on its own thread; an exception is a result."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        try:
            return call()
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def columns(world: World, purpose: str, owner_id: str, currency: str = "CNY") -> tuple[int, ...]:
    """(debits_pending, debits_posted, credits_pending, credits_posted) of one account."""
    with world.db.unit_of_work(write=False) as session:
        acc = book.find_account(session, purpose, owner_id, currency)
        if acc is None:
            return (0, 0, 0, 0)
        return (acc.debits_pending, acc.debits_posted, acc.credits_pending, acc.credits_posted)


def transactions(world: World, kind: str) -> int:
    with world.db.unit_of_work(write=False) as session:
        query = select(func.count(LedgerTransaction.id)).where(LedgerTransaction.kind == kind)
        return int(session.scalar(query) or 0)


def violations(world: World, finished: frozenset[str] = frozenset()) -> list[object]:
    """Every ledger invariant broken, and every finished order settled against its rates."""
    with world.db.unit_of_work(write=False) as session:
        return [
            *ledger.check_invariants(session, orders.finished_order_ids(session) | finished),
            *orders.settlement_violations(session),
        ]


def no_account_overdrawn(world: World) -> bool:
    with world.db.unit_of_work(write=False) as session:
        accounts = session.scalars(select(LedgerAccount)).all()
    return all(a.available >= 0 for a in accounts if a.debits_must_not_exceed_credits)


# -- holds against one wallet ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("balance", "amount"),
    [(1_000_000, 150_000), (960_000, 60_000), (100_000, 100_001)],
    ids=["six-of-sixteen-fit", "all-sixteen-fit-exactly", "none-fit"],
)
def test_sixteen_holds_at_once_never_overdraw_one_wallet(
    world: World, balance: int, amount: int
) -> None:
    # given a wallet holding `balance`
    brand = world.brand(funded=balance)
    org = brand.organization_id
    assert org is not None

    def place(order_id: str) -> str:
        hold = ledger.EscrowHold(order_id, org, "cr_race", "CNY", amount)
        with world.db.unit_of_work() as session:
            ledger.place_escrow_hold(session, hold)
        return order_id

    # when sixteen orders try to hold `amount` from it at once
    results = race(*[functools.partial(place, f"ord_race{i:02d}") for i in range(16)])
    # then exactly as many as fit succeed and the rest are refused for lack of funds
    held = [r for r in results if isinstance(r, str)]
    fits = min(16, balance // amount)
    assert len(held) == fits, results
    refused = [r for r in results if not isinstance(r, str)]
    assert all(isinstance(r, InsufficientFunds) for r in refused), refused
    assert columns(world, "brand_wallet", org) == (fits * amount, 0, 0, balance)
    assert transactions(world, "escrow_hold") == fits
    assert violations(world) == [] and no_account_overdrawn(world)

    # and refunding every hold at once returns the wallet to where it started
    def refund(order_id: str) -> str:
        settlement = ledger.EscrowSettlement(order_id, 0, 0, amount, "race refund")
        with world.db.unit_of_work() as session:
            ledger.settle_escrow(session, settlement)
        return order_id

    if held:
        assert sorted(race(*[functools.partial(refund, o) for o in held])) == sorted(held)
    assert columns(world, "brand_wallet", org) == (0, 0, 0, balance)
    assert transactions(world, "escrow_refund") == fits
    assert violations(world, frozenset(held)) == [] and no_account_overdrawn(world)


# -- one Idempotency-Key, eight copies at once ----------------------------------------------


def keyed(who: Who, key: str) -> dict[str, str]:
    return who.headers | {"Idempotency-Key": key}


def assert_one_stored_response(results: list[Any]) -> dict[str, Any]:
    """Each answer is the stored response or 409 idempotency_in_progress; one did the work."""
    created = [r for r in results if r.status_code == 201]
    assert created, [r.text for r in results]
    assert all(r.json() == created[0].json() for r in created)
    assert sum(REPLAYED not in r.headers for r in created) == 1
    for refused in (r for r in results if r.status_code != 201):
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "idempotency_in_progress", refused.text
    return dict(created[0].json())


def test_eight_copies_of_one_keyed_deposit_at_once_deposit_once(world: World) -> None:
    # given a brand with an empty wallet
    brand = world.brand(funded=0)
    body = {"amount": 700_000, "currency": "CNY", "organization_id": brand.organization_id}
    url = f"{API}/wallet/deposits"
    # when eight copies of one keyed deposit arrive together
    results = race(
        *[lambda: world.client.post(url, json=body, headers=keyed(brand, "race-dep"))] * 8
    )
    # then one deposit exists and every answer is it, or "still in progress"
    deposit = assert_one_stored_response(results)
    listed = ok(world.client.get(url, headers=brand.headers))["items"]
    assert [d["id"] for d in listed] == [deposit["id"]]
    # and the provider's confirmation delivered eight times at once credits it once
    confirmations = race(*[lambda: world.confirm_deposit(deposit)] * 8)
    assert [r.status_code for r in confirmations] == [200] * 8
    assert {r.json()["status"] for r in confirmations} == {"succeeded"}
    assert columns(world, "brand_wallet", brand.organization_id or "") == (0, 0, 0, 700_000)
    assert transactions(world, "deposit") == 1
    # a later replay still answers with the stored deposit
    replay = world.client.post(url, json=body, headers=keyed(brand, "race-dep"))
    assert replay.status_code == 201 and replay.headers[REPLAYED] == "true"
    assert replay.json() == deposit
    with world.db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count(Deposit.id))) == 1
    assert violations(world) == []


def test_eight_copies_of_one_keyed_accept_at_once_hold_once(world: World) -> None:
    # given a funded brand and a creator's pending application quoting 500,000
    brand = world.brand(funded=2_000_000)
    application = world.application(world.creator(), world.campaign(brand), quote=500_000)
    url = f"{API}/applications/{application['id']}/accept"
    # when eight copies of one keyed accept arrive together
    results = race(*[lambda: world.client.post(url, headers=keyed(brand, "race-acc"))] * 8)
    # then one order exists with one escrow hold of 550,000 (quote plus the brand fee)
    accepted = assert_one_stored_response(results)
    order_ids = [
        o["id"] for o in ok(world.client.get(f"{API}/orders", headers=brand.headers))["items"]
    ]
    assert order_ids == [accepted["order"]["id"]]
    assert transactions(world, "escrow_hold") == 1
    assert columns(world, "brand_wallet", brand.organization_id or "") == (550_000, 0, 0, 2_000_000)
    assert violations(world) == []


# -- one order settled from several threads -------------------------------------------------


def test_six_settlements_of_one_order_at_once_settle_it_once(world: World) -> None:
    # given an order holding 550,000 in escrow
    order_id, brand, creator = world.order(quote=500_000)
    assert creator.creator_id is not None and brand.organization_id is not None
    splits = [
        (550_000, 0, 0),
        (475_000, 75_000, 0),
        (0, 0, 550_000),  # a refund: the hold is voided
        (275_000, 0, 275_000),
        (1, 1, 549_998),
        (0, 550_000, 0),
    ]

    def settle(split: tuple[int, int, int]) -> tuple[int, int, int]:
        settlement = ledger.EscrowSettlement(order_id, *split, reason="race")
        with world.db.unit_of_work() as session:
            ledger.settle_escrow(session, settlement)
        return split

    # when six workers settle it at once, each with another split
    results = race(*[functools.partial(settle, s) for s in splits])
    # then exactly one wins and the others learn it was already settled
    won = [r for r in results if isinstance(r, tuple)]
    assert len(won) == 1, results
    lost = [r for r in results if not isinstance(r, tuple)]
    assert all(isinstance(r, ledger.EscrowAlreadySettled) for r in lost), lost
    to_creator, to_platform, to_brand = won[0]
    # and the money moved exactly as the winner's split says, once
    paid = to_creator + to_platform
    assert columns(world, "brand_wallet", brand.organization_id) == (0, paid, 0, 100_000_000)
    assert columns(world, "creator_pending", creator.creator_id) == (0, 0, 0, to_creator)
    assert columns(world, "platform_revenue", platform_revenue_owner(order_id)) == (
        0,
        0,
        0,
        to_platform,
    )
    assert columns(world, "order_escrow", order_id) == (0, paid, 0, paid)
    settled = transactions(world, "escrow_release") + transactions(world, "escrow_refund")
    assert settled == 1
    with world.db.unit_of_work(write=False) as session:
        assert ledger.check_invariants(session, {order_id}) == []


# -- payouts from one creator's earnings ----------------------------------------------------


def test_twelve_payouts_at_once_never_overdraw_the_earnings(world: World) -> None:
    # given a creator with 475,000 of matured earnings and a verified payout method
    _, _, creator = world.to_state("completed")
    assert creator.creator_id is not None
    clock.advance(timedelta(days=8))
    with world.db.unit_of_work() as session:
        assert payouts.mature_earnings(session) == 1
    method = ok(
        world.client.post(
            f"{API}/payout-methods",
            json={"kind": "alipay", "holder_name": "Lin", "account_number": "13800138000"},
            headers=creator.headers,
        ),
        201,
    )
    body = {"amount": 100_000, "currency": "CNY", "payout_method_id": method["id"]}
    # when twelve payouts of 100,000 are requested at once
    results = race(
        *[lambda: world.client.post(f"{API}/payouts", json=body, headers=creator.headers)] * 12
    )
    # then four are held and eight are refused for lack of funds
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] * 4 + [402] * 8, [r.text for r in results]
    assert {r.json()["code"] for r in results if r.status_code == 402} == {"insufficient_funds"}
    held = [r.json()["id"] for r in results if r.status_code == 201]
    available = columns(world, "creator_available", creator.creator_id)
    assert available == (400_000, 0, 0, 475_000)
    # and processing each payout from three workers at once pays each exactly once
    jobs = [functools.partial(payouts.process_payout, world.db, p) for p in held for _ in range(3)]
    assert race(*jobs) == ["paid"] * 12
    assert columns(world, "creator_available", creator.creator_id) == (0, 400_000, 0, 475_000)
    assert columns(world, "payout_clearing", "sandbox") == (0, 0, 0, 400_000)
    assert transactions(world, "payout_hold") == 4 and transactions(world, "payout") == 4
    earnings = ok(world.client.get(f"{API}/earnings", headers=creator.headers))["balances"]
    assert earnings == [{"currency": "CNY", "pending": 0, "available": 75_000, "paid_out": 400_000}]
    assert violations(world) == [] and no_account_overdrawn(world)


def test_four_workers_maturing_at_once_mature_each_release_once(world: World) -> None:
    # given three creators whose orders completed, and the holding period over for all three
    creators = [world.to_state("completed")[2] for _ in range(3)]
    clock.advance(timedelta(days=8))

    def mature() -> int:
        with world.db.unit_of_work() as session:
            return payouts.mature_earnings(session)

    # when four workers' periodic jobs mature earnings at once
    results = race(*[mature] * 4)
    # then each release matured exactly once, whichever worker did it
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 3
    assert transactions(world, "mature") == 3
    for creator in creators:
        assert creator.creator_id is not None
        assert columns(world, "creator_pending", creator.creator_id) == (0, 475_000, 0, 475_000)
        assert columns(world, "creator_available", creator.creator_id) == (0, 0, 0, 475_000)
    assert violations(world) == [] and no_account_overdrawn(world)


# -- a campaign's budget --------------------------------------------------------------------


def test_eight_accepts_at_once_never_overcommit_a_campaign_budget(world: World) -> None:
    # Regression: at eb0a05d the budget check read the committed escrow without locking the
    # campaign, so on PostgreSQL all eight of these accepts succeeded (4,400,000 of escrow on
    # a 1,100,000 budget); only the wallet row was locked, and only after the check.
    # given a rich brand whose campaign has budget for two 500,000 orders (550,000 escrow each)
    brand = world.brand(funded=100_000_000)
    campaign = world.campaign(brand, budget_amount=1_100_000)
    applications = [world.application(world.creator(), campaign, quote=500_000) for _ in range(8)]
    accepts = [
        functools.partial(
            world.client.post, f"{API}/applications/{a['id']}/accept", headers=brand.headers
        )
        for a in applications
    ]
    # when eight creators' applications are accepted at once
    results = race(*accepts)
    # then two orders are made and six are refused for the budget
    answers = sorted((r.status_code, r.json().get("code")) for r in results)
    assert answers == [(201, None)] * 2 + [(409, "budget_exceeded")] * 6, answers
    assert transactions(world, "escrow_hold") == 2
    with world.db.unit_of_work(write=False) as session:
        assert orders.committed_escrow(session, campaign["id"]) == 1_100_000
