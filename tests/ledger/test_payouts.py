"""Earnings mature after the holding period; payouts hold, send, and return on failure."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from pappus.jobs import use_database
from pappus.kit.clock import clock
from pappus.ledger import payouts
from tests.fixtures.builders import World, ok
from tests.ledger.test_wallet_and_escrow import check


def earn(world: World) -> tuple:  # type: ignore[type-arg]
    """A creator with 475,000 released to them (a completed 500,000 order)."""
    order_id, brand, creator = world.to_state("completed")
    return order_id, brand, creator


def mature(world: World) -> int:
    with world.db.unit_of_work() as session:
        return payouts.mature_earnings(session)


def balances(world: World, creator) -> dict:  # type: ignore[no-untyped-def]
    body = ok(world.client.get("/api/v1/earnings", headers=creator.headers))
    return body["balances"][0]


def method(world: World, creator, number: str = "6222020200112233") -> dict:  # type: ignore[no-untyped-def]
    return dict(
        ok(
            world.client.post(
                "/api/v1/payout-methods",
                headers=creator.headers,
                json={
                    "kind": "bank_account",
                    "holder_name": "Lin Xiaoyu",
                    "account_number": number,
                },
            ),
            201,
        )
    )


def test_earnings_mature_once_after_the_holding_period(world: World) -> None:
    _, _, creator = earn(world)
    assert balances(world, creator)["pending"] == 475_000
    assert mature(world) == 0
    clock.advance(timedelta(days=8))
    assert mature(world) == 1
    assert mature(world) == 0
    assert balances(world, creator) == {
        "currency": "CNY",
        "pending": 0,
        "available": 475_000,
        "paid_out": 0,
    }
    assert check(world) == []


def test_payout_is_held_then_paid_and_idempotent(world: World) -> None:
    _, _, creator = earn(world)
    clock.advance(timedelta(days=8))
    mature(world)
    pm = method(world, creator)
    assert pm["status"] == "verified" and pm["account_last4"] == "2233"
    body = {"amount": 400_000, "currency": "CNY", "payout_method_id": pm["id"]}
    headers = creator.headers | {"Idempotency-Key": "payout-1"}
    first = ok(world.client.post("/api/v1/payouts", json=body, headers=headers), 201)
    replay = world.client.post("/api/v1/payouts", json=body, headers=headers)
    assert replay.status_code == 201 and replay.json()["id"] == first["id"]
    assert first["status"] == "processing"
    assert balances(world, creator)["available"] == 75_000
    assert payouts.process_payout(world.db, first["id"]) == "paid"
    assert payouts.process_payout(world.db, first["id"]) == "paid"
    got = ok(world.client.get(f"/api/v1/payouts/{first['id']}", headers=creator.headers))
    assert got["status"] == "paid" and got["provider_ref"]
    assert balances(world, creator) == {
        "currency": "CNY",
        "pending": 0,
        "available": 75_000,
        "paid_out": 400_000,
    }
    too_much = world.client.post(
        "/api/v1/payouts", headers=creator.headers, json={**body, "amount": 75_001}
    )
    assert too_much.status_code == 402
    assert check(world) == []


def test_a_failed_payout_returns_the_money(world: World) -> None:
    _, _, creator = earn(world)
    clock.advance(timedelta(days=8))
    mature(world)
    pm = method(world, creator)
    payout = ok(
        world.client.post(
            "/api/v1/payouts",
            headers=creator.headers,
            json={"amount": 100_013, "currency": "CNY", "payout_method_id": pm["id"]},
        ),
        201,
    )
    assert balances(world, creator)["available"] == 475_000 - 100_013
    use_database(world.db)
    assert payouts.process_payout(world.db, payout["id"]) == "failed"
    assert balances(world, creator)["available"] == 475_000
    assert check(world) == []


def test_unverified_methods_cannot_be_paid_and_numbers_are_encrypted(world: World) -> None:
    _, _, creator = earn(world)
    bad = method(world, creator, "6222 0000 0000 0000")
    assert bad["status"] == "failed"
    refused = world.client.post(
        "/api/v1/payouts",
        headers=creator.headers,
        json={"amount": 10_000, "currency": "CNY", "payout_method_id": bad["id"]},
    )
    assert refused.status_code == 409 and refused.json()["code"] == "payout_method_unusable"
    good = method(world, creator)
    with world.db.unit_of_work(write=False) as session:
        stored = session.execute(
            text("SELECT account_encrypted FROM payout_methods WHERE id = :i"), {"i": good["id"]}
        ).scalar_one()
    assert "6222020200112233" not in stored and stored.startswith("v1:")
    brand = world.brand(funded=0)
    assert (
        world.client.post(
            "/api/v1/payouts",
            headers=brand.headers,
            json={"amount": 10_000, "currency": "CNY", "payout_method_id": good["id"]},
        ).status_code
        == 403
    )
    other = world.creator()
    assert (
        world.client.post(
            "/api/v1/payouts",
            headers=other.headers,
            json={"amount": 10_000, "currency": "CNY", "payout_method_id": good["id"]},
        ).status_code
        == 404
    )
