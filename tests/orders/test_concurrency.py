"""Races: whatever the interleaving, one winner, no duplicate orders, events or settlements."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from pappus.errors import Conflict
from pappus.kit.clock import clock
from pappus.ledger.models import LedgerTransaction
from pappus.orders import service
from pappus.orders.models import Order, OrderEvent
from tests.fixtures.builders import World, ok


def race(*calls: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        try:
            return call()
        except Exception as exc:  # the loser's error is part of the result
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def count(world: World, query: Any) -> int:
    with world.db.unit_of_work(write=False) as session:
        return int(session.scalar(query) or 0)


def test_accepting_one_application_twice_at_once_makes_one_order(world: World) -> None:
    brand = world.brand()
    campaign = world.campaign(brand)
    application = world.application(world.creator(), campaign)
    url = f"/api/v1/applications/{application['id']}/accept"
    for _ in range(3):
        results = race(*[lambda: world.client.post(url, headers=brand.headers)] * 4)
        statuses = sorted(r.status_code for r in results)
        assert statuses.count(201) <= 1
        assert all(s in (201, 409, 503) for s in statuses), [r.text for r in results]
    assert count(world, select(func.count(Order.id))) == 1
    holds = select(func.count(LedgerTransaction.id)).where(LedgerTransaction.kind == "escrow_hold")
    assert count(world, holds) == 1


def test_a_timer_fired_by_two_workers_applies_once(world: World) -> None:
    order_id, brand, creator = world.to_state("draft_review")
    clock.advance(timedelta(days=4))
    at = clock.now()

    def fire() -> bool:
        with world.db.unit_of_work() as session:
            return service.fire_timer(session, order_id, "deem_approval", at)

    results = race(fire, fire, fire)
    fired = [r for r in results if r is True]
    assert len(fired) == 1, results
    assert all(r is False or isinstance(r, Conflict) for r in results if r is not True)
    events = count(
        world,
        select(func.count(OrderEvent.id)).where(
            OrderEvent.order_id == order_id, OrderEvent.action == "deem_approval"
        ),
    )
    assert events == 1
    assert world.get_order(order_id, brand)["state"] == "approved"


def test_approve_and_request_changes_at_once_one_wins(world: World) -> None:
    order_id, brand, creator = world.to_state("draft_review")
    draft_id = ok(world.client.get(f"/api/v1/orders/{order_id}/drafts", headers=brand.headers))[
        "items"
    ][0]["id"]
    base = f"/api/v1/orders/{order_id}/drafts/{draft_id}"
    results = race(
        lambda: world.client.post(f"{base}/approve", headers=brand.headers),
        lambda: world.client.post(
            f"{base}/request-changes", json={"feedback": "no"}, headers=brand.headers
        ),
    )
    codes = sorted(r.status_code for r in results)
    assert codes[0] == 200 and codes[1] in (409, 503), [r.text for r in results]
    order = world.get_order(order_id, brand)
    assert order["state"] in ("approved", "changes_requested")
    events = ok(world.client.get(f"/api/v1/orders/{order_id}/events", headers=brand.headers))
    assert [e["action"] for e in events["items"]][-1] in ("approve_draft", "request_changes")
    assert len(events["items"]) == 3


def test_completion_settles_exactly_once_under_concurrent_sweeps(world: World) -> None:
    order_id, brand, creator = world.to_state("published")
    clock.advance(timedelta(days=8))
    results = race(world.sweep, world.sweep, world.sweep)
    assert sum(r for r in results if isinstance(r, int)) == 1, results
    settled = count(
        world,
        select(func.count(LedgerTransaction.id)).where(
            LedgerTransaction.order_id == order_id,
            LedgerTransaction.kind.in_(["escrow_release", "escrow_refund"]),
        ),
    )
    assert settled == 1


def test_concurrent_accepts_never_overrun_the_campaign_budget(world: World) -> None:
    brand = world.brand()
    for _ in range(3):
        campaign = world.campaign(brand, budget_amount=600_000)  # room for one 550,000 order
        apps = [world.application(world.creator(), campaign) for _ in range(2)]
        results = race(
            *[
                (
                    lambda a=a: world.client.post(
                        f"/api/v1/applications/{a['id']}/accept", headers=brand.headers
                    )
                )
                for a in apps
            ]
        )
        codes = sorted(r.status_code for r in results)
        assert codes[0] == 201 and codes[1] in (409, 503), [r.text for r in results]
        page = ok(world.client.get(f"/api/v1/campaigns/{campaign['id']}", headers=brand.headers))
        assert page["committed_amount"] == 550_000
