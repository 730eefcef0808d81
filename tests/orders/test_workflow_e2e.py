"""The whole order workflow over HTTP, happy and unhappy paths, with a controllable clock."""

from __future__ import annotations

import itertools
from datetime import timedelta

from pappus.kit.clock import clock
from tests.fixtures.builders import World, ok


def actions(order: dict) -> list[str]:
    return [a["action"] for a in order["allowed_actions"]]


def test_happy_path_from_registration_to_completion(world: World) -> None:
    client = world.client
    # given a brand, a creator and an open campaign with a bonus on views
    brand = world.brand("Dandelion Skincare")
    creator = world.creator(followers=25_000)
    staff = world.staff()
    campaign = world.campaign(
        brand,
        compensation_model="fixed_plus_bonus",
        compensation={"bonus_cap_amount": 100_000},
        kpis=[{"metric": "views", "target": 10_000}, {"metric": "engagements", "target": 900}],
    )
    assert campaign["status"] == "open"
    market = ok(client.get("/api/v1/marketplace/campaigns", headers=creator.headers))
    assert [c["id"] for c in market["items"]] == [campaign["id"]]
    assert "budget_amount" not in market["items"][0]

    # when the creator applies and the brand accepts
    application = world.application(creator, campaign, quote=500_000)
    accepted = ok(
        client.post(f"/api/v1/applications/{application['id']}/accept", headers=brand.headers),
        201,
    )
    order_id = accepted["order"]["id"]
    order = world.get_order(order_id, creator)

    # then an order exists with a frozen contract and itemised fees
    assert order["state"] == "awaiting_draft"
    money = order["contract"]["money"]
    assert money == {
        **money,
        "price_amount": 500_000,
        "bonus_cap_amount": 100_000,
        "brand_fee_bp": 1000,
        "brand_fee_amount": 60_000,
        "escrow_amount": 660_000,
        "creator_commission_bp": 500,
        "creator_commission_amount": 25_000,
        "creator_net_amount": 475_000,
    }
    assert actions(order) == ["submit_draft", "cancel", "open_dispute"]
    assert actions(world.get_order(order_id, brand)) == ["cancel", "open_dispute"]

    # draft, changes, resubmit, approve
    first = world.submit_draft(order_id, creator)
    assert world.get_order(order_id, brand)["state"] == "draft_review"
    ok(world.request_changes(order_id, first, brand))
    assert world.get_order(order_id, brand)["state"] == "changes_requested"
    second = world.submit_draft(order_id, creator, body="Better review #ad")
    world.approve(order_id, second, brand)
    assert world.get_order(order_id, brand)["state"] == "approved"

    # publish, metrics, measurement window ends, completion
    world.publish(order_id, creator)
    order = world.get_order(order_id, brand)
    assert order["state"] == "published"
    assert order["deadlines"]["measurement_ends_at"] is not None
    clock.advance(timedelta(days=2))
    ok(
        world.metrics(order_id, staff, views=12_000, likes=500, comments=80, saves=100, shares=20),
        201,
    )
    clock.advance(timedelta(days=6))
    assert world.sweep() == 1
    order = world.get_order(order_id, brand)
    assert order["state"] == "completed"
    assert order["kpi_result"]["met"] == 1  # views met, engagements 700 < 900
    # creator earns price + half the bonus; fees only on what was earned
    assert order["settlement"] == {
        "reason": "release_with_kpis",
        "creator_gross_amount": 550_000,
        "bonus_amount": 50_000,
        "creator_commission_amount": 27_500,
        "brand_fee_amount": 55_000,
        "to_creator": 522_500,
        "to_platform": 82_500,
        "to_brand": 55_000,
    }
    events = ok(client.get(f"/api/v1/orders/{order_id}/events", headers=brand.headers))["items"]
    assert [e["action"] for e in events] == [
        "create_order",
        "submit_draft",
        "request_changes",
        "submit_draft",
        "approve_draft",
        "publish",
        "complete",
    ]
    assert events[-1]["actor_kind"] == "system"
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(events))
    assert world.sweep() == 0  # firing again changes nothing


def test_deemed_approval_when_brand_is_silent(world: World) -> None:
    order_id, brand, creator = world.to_state("draft_review")
    clock.advance(timedelta(days=2))
    assert world.sweep() == 0
    clock.advance(timedelta(days=2))
    assert world.sweep() == 1
    order = world.get_order(order_id, brand)
    assert order["state"] == "approved"
    drafts = ok(world.client.get(f"/api/v1/orders/{order_id}/drafts", headers=brand.headers))
    assert drafts["items"][0]["status"] == "approved" and drafts["items"][0]["deemed"] is True
    assert world.sweep() == 0


def test_missed_draft_deadline_lets_brand_cancel_with_full_refund(world: World) -> None:
    order_id, brand, creator = world.to_state("awaiting_draft")
    clock.advance(timedelta(days=8))
    order = world.get_order(order_id, brand)
    cancel = next(a for a in order["allowed_actions"] if a["action"] == "cancel")
    assert "missed the draft deadline" in cancel["description"]
    body = ok(
        world.client.post(
            f"/api/v1/orders/{order_id}/cancel", json={"reason": "no draft"}, headers=brand.headers
        )
    )
    assert body["state"] == "cancelled"
    assert body["settlement"]["to_creator"] == 0
    assert body["settlement"]["to_brand"] == body["escrow_amount"]


def test_brand_cancel_after_draft_pays_stage_kill_fee(world: World) -> None:
    order_id, brand, _ = world.to_state("draft_review")
    body = ok(
        world.client.post(
            f"/api/v1/orders/{order_id}/cancel",
            json={"reason": "changed plans"},
            headers=brand.headers,
        )
    )
    # 30% of the 500,000 price; 10% brand fee and 5% commission on that
    assert body["settlement"]["creator_gross_amount"] == 150_000
    assert body["settlement"]["to_creator"] == 142_500
    assert body["settlement"]["to_platform"] == 15_000 + 7_500
    assert sum(body["settlement"][k] for k in ("to_creator", "to_platform", "to_brand")) == 550_000


def test_revision_cap_escalates_to_dispute_and_staff_split(world: World) -> None:
    order_id, brand, creator = world.to_state("awaiting_draft")
    for _ in range(2):
        draft = world.submit_draft(order_id, creator)
        ok(world.request_changes(order_id, draft, brand))
    draft = world.submit_draft(order_id, creator)
    ok(world.request_changes(order_id, draft, brand))
    order = world.get_order(order_id, brand)
    assert order["state"] == "disputed"
    assert order["revisions_used"] == 2
    staff = world.staff()
    dispute_id = order["open_dispute_id"]
    assert actions(world.get_order(order_id, staff)) == ["resolve_dispute"]
    resolved = ok(
        world.client.post(
            f"/api/v1/disputes/{dispute_id}/resolve",
            json={"resolution": "split", "creator_share_bp": 4000, "note": "partly done"},
            headers=staff.headers | {"Idempotency-Key": "resolve-1"},
        )
    )
    assert resolved["status"] == "resolved"
    replay = world.client.post(
        f"/api/v1/disputes/{dispute_id}/resolve",
        json={"resolution": "split", "creator_share_bp": 4000, "note": "partly done"},
        headers=staff.headers | {"Idempotency-Key": "resolve-1"},
    )
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    order = world.get_order(order_id, brand)
    assert order["state"] == "completed"
    assert order["settlement"]["creator_gross_amount"] == 200_000


def test_dispute_refund_cancels_order(world: World) -> None:
    order_id, brand, creator = world.to_state("published")
    dispute = ok(
        world.client.post(
            f"/api/v1/orders/{order_id}/disputes",
            json={"reason": "post deleted"},
            headers=brand.headers,
        ),
        201,
    )
    staff = world.staff(role="reviewer")
    ok(
        world.client.post(
            f"/api/v1/disputes/{dispute['id']}/resolve",
            json={"resolution": "refund", "note": "post removed after one day"},
            headers=staff.headers,
        )
    )
    order = world.get_order(order_id, brand)
    assert order["state"] == "cancelled"
    assert order["settlement"]["to_brand"] == order["escrow_amount"]
