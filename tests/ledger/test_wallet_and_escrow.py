"""Deposits through the signed sandbox webhook, escrow holds and settlements, statements and
the invariant check."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import text

from pappus.kit.clock import clock
from pappus.ledger import book
from pappus.ledger import service as ledger
from pappus.ledger.payments import SIGNATURE_HEADER, sandbox_event, sign
from pappus.orders import service as orders
from pappus.orders.models import Order
from tests.fixtures.builders import World, ok


def wallet(world: World, brand) -> dict:  # type: ignore[no-untyped-def]
    body = ok(world.client.get("/api/v1/wallet", headers=brand.headers))
    return {b["currency"]: b for b in body["balances"]}.get(
        "CNY", {"available": 0, "held_in_escrow": 0, "posted": 0}
    )


def check(world: World) -> list:  # type: ignore[type-arg]
    with world.db.unit_of_work(write=False) as session:
        found = ledger.check_invariants(session, orders.finished_order_ids(session))
        return found + orders.settlement_violations(session)  # type: ignore[operator]


def test_deposit_is_available_only_after_the_signed_webhook(world: World) -> None:
    brand = world.brand(funded=0)
    deposit = ok(
        world.client.post(
            "/api/v1/wallet/deposits", json={"amount": 1_000_000}, headers=brand.headers
        ),
        201,
    )
    assert deposit["status"] == "pending"
    assert wallet(world, brand)["available"] == 0
    assert world.confirm_deposit(deposit).status_code == 200
    assert wallet(world, brand)["available"] == 1_000_000
    # a duplicate delivery changes nothing
    assert world.confirm_deposit(deposit).status_code == 200
    assert wallet(world, brand)["available"] == 1_000_000
    listed = ok(world.client.get("/api/v1/wallet/deposits", headers=brand.headers))
    assert [d["status"] for d in listed["items"]] == ["succeeded"]
    assert check(world) == []


def test_declined_deposit_and_forged_webhooks_move_nothing(world: World) -> None:
    brand = world.brand(funded=0)
    declined = ok(
        world.client.post(
            "/api/v1/wallet/deposits", json={"amount": 500_013}, headers=brand.headers
        ),
        201,
    )
    world.confirm_deposit(declined)
    got = ok(world.client.get(f"/api/v1/wallet/deposits/{declined['id']}", headers=brand.headers))
    assert got["status"] == "failed" and "declined" in got["failure_reason"]
    good = ok(
        world.client.post(
            "/api/v1/wallet/deposits", json={"amount": 700_000}, headers=brand.headers
        ),
        201,
    )
    body = sandbox_event(good["provider_ref"], good["amount"], good["currency"])
    url = "/api/v1/webhooks/payments/sandbox"
    forged = world.client.post(url, content=body, headers={SIGNATURE_HEADER: sign("guess", body)})
    assert forged.status_code == 400 and forged.json()["code"] == "invalid_signature"
    with world.db.unit_of_work() as session:
        key = ledger.sandbox_webhook_secret(session)
    stale = sign(key, body, timestamp=1_600_000_000)
    assert (
        world.client.post(url, content=body, headers={SIGNATURE_HEADER: stale}).status_code == 400
    )
    unsigned = world.client.post(url, content=body)
    assert unsigned.status_code == 400
    tampered = body.replace(b"700000", b"900000")
    assert (
        world.client.post(
            url, content=tampered, headers={SIGNATURE_HEADER: sign(key, tampered)}
        ).status_code
        == 422
    )
    assert wallet(world, brand)["available"] == 0
    assert check(world) == []


def test_only_owners_and_admins_fund_the_wallet(world: World) -> None:
    owner = world.brand(funded=0)
    member = world.member(owner, "member")
    refused = world.client.post(
        "/api/v1/wallet/deposits",
        headers=member.headers,
        json={"amount": 100_000, "organization_id": owner.organization_id},
    )
    assert refused.status_code == 403
    outsider = world.brand(funded=0)
    other_org = world.client.post(
        "/api/v1/wallet/deposits",
        headers=outsider.headers,
        json={"amount": 100_000, "organization_id": owner.organization_id},
    )
    assert other_org.status_code == 404
    assert (
        world.client.get(
            f"/api/v1/wallet?organization_id={owner.organization_id}", headers=outsider.headers
        ).status_code
        == 404
    )


def test_accepting_without_funds_is_402_and_creates_nothing(world: World) -> None:
    brand = world.brand(funded=100_000)
    campaign = world.campaign(brand)
    creator = world.creator()
    application = world.application(creator, campaign, quote=500_000)
    refused = world.client.post(
        f"/api/v1/applications/{application['id']}/accept", headers=brand.headers
    )
    assert refused.status_code == 402 and refused.json()["code"] == "insufficient_funds"
    assert ok(world.client.get("/api/v1/orders", headers=brand.headers))["items"] == []
    still = ok(world.client.get(f"/api/v1/applications/{application['id']}", headers=brand.headers))
    assert still["status"] == "pending"
    world.fund(brand, 1_000_000)
    ok(
        world.client.post(
            f"/api/v1/applications/{application['id']}/accept", headers=brand.headers
        ),
        201,
    )
    assert wallet(world, brand) == {
        "currency": "CNY",
        "available": 550_000,
        "held_in_escrow": 550_000,
        "posted": 1_100_000,
    }


def test_completion_pays_creator_and_platform_and_returns_the_rest(world: World) -> None:
    brand = world.brand(funded=2_000_000)
    staff = world.staff()
    order_id, brand, creator = world.order(
        brand=brand,
        quote=500_000,
        compensation_model="fixed_plus_bonus",
        compensation={"bonus_cap_amount": 100_000},
        kpis=[{"metric": "views", "target": 10_000}, {"metric": "saves", "target": 500}],
    )
    assert wallet(world, brand)["held_in_escrow"] == 660_000
    draft = world.submit_draft(order_id, creator)
    world.approve(order_id, draft, brand)
    world.publish(order_id, creator)
    clock.advance(timedelta(days=1))
    ok(world.metrics(order_id, staff, views=20_000, saves=100), 201)
    clock.advance(timedelta(days=7))
    assert world.sweep() == 1
    settlement = world.get_order(order_id, brand)["settlement"]
    # earned 500,000 + half the bonus; 10% fee on 550,000; 5% commission withheld
    assert settlement["to_creator"] == 522_500
    assert settlement["to_platform"] == 55_000 + 27_500
    assert settlement["to_brand"] == 55_000
    assert wallet(world, brand) == {
        "currency": "CNY",
        "available": 2_000_000 - 605_000,
        "held_in_escrow": 0,
        "posted": 2_000_000 - 605_000,
    }
    earnings = ok(world.client.get("/api/v1/earnings", headers=creator.headers))
    assert earnings["balances"] == [
        {"currency": "CNY", "pending": 522_500, "available": 0, "paid_out": 0}
    ]
    assert earnings["lines"][0]["order_id"] == order_id
    assert check(world) == []


def test_cancellation_and_dispute_refunds_return_money(world: World) -> None:
    brand = world.brand(funded=5_000_000)
    o1, _, _ = world.order(brand=brand)
    ok(
        world.client.post(
            f"/api/v1/orders/{o1}/cancel", json={"reason": "x"}, headers=brand.headers
        )
    )
    assert wallet(world, brand)["available"] == 5_000_000
    o2, _, creator = world.order(brand=brand)
    world.submit_draft(o2, creator)
    ok(
        world.client.post(
            f"/api/v1/orders/{o2}/cancel", json={"reason": "y"}, headers=brand.headers
        )
    )
    # 30% kill fee of 500,000 plus 10% brand fee on it
    assert wallet(world, brand)["available"] == 5_000_000 - 165_000
    assert check(world) == []


def test_statement_has_running_balances_and_a_csv_export(world: World) -> None:
    brand = world.brand(funded=0)
    world.fund(brand, 1_000_000)
    world.fund(brand, 300_000)
    world.order(brand=brand, quote=100_000)
    body = ok(world.client.get("/api/v1/wallet/transactions", headers=brand.headers))
    lines = body["items"]
    assert [(x["kind"], x["direction"], x["amount"]) for x in lines] == [
        ("escrow_hold", "hold", 110_000),
        ("deposit", "credit", 300_000),
        ("deposit", "credit", 1_000_000),
    ]
    assert [x["balance_after"] for x in lines] == [1_300_000, 1_300_000, 1_000_000]
    page = ok(world.client.get("/api/v1/wallet/transactions?limit=2", headers=brand.headers))
    rest = ok(
        world.client.get(
            f"/api/v1/wallet/transactions?limit=2&cursor={page['next_cursor']}",
            headers=brand.headers,
        )
    )
    assert [x["id"] for x in page["items"] + rest["items"]] == [x["id"] for x in lines]
    # the export holds the whole statement, whatever the page size
    exported = world.client.get(
        "/api/v1/wallet/transactions?format=csv&limit=1", headers=brand.headers
    )
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [int(r["balance_after"]) for r in rows] == [1_300_000, 1_300_000, 1_000_000]


def test_ledger_check_names_a_tampered_balance(world: World) -> None:
    brand = world.brand(funded=1_000_000)
    assert check(world) == []
    with world.db.unit_of_work() as session:
        session.execute(
            text(
                "UPDATE ledger_accounts SET credits_posted = credits_posted + 1 "
                "WHERE purpose = 'brand_wallet'"
            )
        )
    problems = check(world)
    assert problems and problems[0].rule == "balance_mismatch"  # type: ignore[union-attr]
    assert brand.organization_id in problems[0].detail  # type: ignore[union-attr]


def test_csv_export_walks_every_page(world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ledger, "EXPORT_PAGE", 2)
    brand = world.brand(funded=0)
    for amount in (100_000, 200_000, 300_000, 400_000, 500_000):
        world.fund(brand, amount)
    exported = world.client.get("/api/v1/wallet/transactions?format=csv", headers=brand.headers)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [int(r["amount"]) for r in rows] == [500_000, 400_000, 300_000, 200_000, 100_000]
    assert [int(r["balance_after"]) for r in rows] == [
        1_500_000,
        1_000_000,
        600_000,
        300_000,
        100_000,
    ]


def test_fees_spread_over_the_revenue_accounts_by_order_and_sum_to_what_was_charged(
    world: World,
) -> None:
    brand = world.brand(funded=1_000_000)
    # order ids whose fees land in different revenue accounts, and one twice over
    order_ids = [f"ord_shard_{n}" for n in range(40)]
    owners = {order_id: book.platform_revenue_owner(order_id) for order_id in order_ids}
    assert set(owners.values()) == set(book.PLATFORM_REVENUE_OWNERS)
    assert all(book.platform_revenue_owner(o) == owner for o, owner in owners.items())
    for n, order_id in enumerate(order_ids):
        with world.db.unit_of_work() as session:
            held = ledger.EscrowHold(order_id, brand.organization_id, "crt_x", "CNY", 10_000)
            ledger.place_escrow_hold(session, held)
        with world.db.unit_of_work() as session:
            split = ledger.EscrowSettlement(order_id, 8_000, 1_000 + n, 1_000 - n, "test")
            ledger.settle_escrow(session, split)
    with world.db.unit_of_work(write=False) as session:
        revenue = {
            owner: book.find_account(session, "platform_revenue", owner, "CNY")
            for owner in set(owners.values())
        }
        for owner, account in revenue.items():
            charged = sum(1_000 + n for n, o in enumerate(order_ids) if owners[o] == owner)
            assert account is not None and account.balance == charged, owner
        assert sum(a.balance for a in revenue.values() if a) == sum(1_000 + n for n in range(40))
    assert check(world) == []


def test_ledger_check_names_a_settlement_that_differs_from_the_contract_rates(
    world: World,
) -> None:
    brand = world.brand(funded=5_000_000)
    settled = []
    for _ in range(3):  # settled orders on either side of the tampered one still pass
        order_id, _, creator = world.order(brand=brand)
        world.submit_draft(order_id, creator)
        cancel = f"/api/v1/orders/{order_id}/cancel"
        ok(world.client.post(cancel, json={"reason": "kill fee"}, headers=brand.headers))
        settled.append(order_id)
    assert check(world) == []
    with world.db.unit_of_work() as session:
        order = session.get(Order, settled[1])
        assert order is not None and order.settlement is not None
        order.settlement = {**order.settlement, "brand_fee_amount": 1}
    problems = check(world)
    assert problems == [f"order {settled[1]}: brand_fee_amount is 1, rates say 15000"]


def test_the_book_asked_for_no_accounts_sends_no_statement(world: World) -> None:
    """Zero ids or keys: nothing to lock or look up, not a statement PostgreSQL cannot parse."""
    from pappus.ledger import book_repository

    with world.db.unit_of_work() as session:
        assert book_repository.lock_balances(session, []) == {}
        assert book_repository.account_ids(session, [], create=[]) == {}
        assert book.account_ids(session, []) == []
