"""Campaign-time fraud: inflated metrics hold the payout and open a staff review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pappus.kit.clock import clock, now
from pappus.orders.inflation import findings
from tests.fixtures.builders import World, ok

T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)


@dataclass
class Snap:
    taken_at: datetime
    views: int
    likes: int = 0
    comments: int = 0
    saves: int = 0
    shares: int = 0


def organic(hours: list[int], final_views: int = 40_000) -> list[Snap]:
    """Saturating growth, most of it in the first two days."""
    import math

    snaps = []
    for h in hours:
        done = 1 - math.exp(-h / 36)
        views = int(final_views * done)
        snaps.append(Snap(T0 + timedelta(hours=h), views, views // 25, views // 300, views // 80))
    return snaps


def test_organic_growth_is_not_flagged() -> None:
    assert findings(organic([6, 24, 48, 96, 168]), T0) == []
    assert findings([], T0) == []


def test_engagement_without_views_and_views_without_engagement_are_flagged() -> None:
    bought_likes = [Snap(T0 + timedelta(days=7), views=1_000, likes=4_000)]
    assert [f.check for f in findings(bought_likes, T0)] == ["engagement_exceeds_views"]
    bought_views = [Snap(T0 + timedelta(days=7), views=200_000, likes=90)]
    assert [f.check for f in findings(bought_views, T0)] == ["views_without_engagement"]


def test_a_late_burst_is_flagged_and_an_early_peak_is_not() -> None:
    early = organic([2, 6, 24, 96, 168])
    assert findings(early, T0) == []
    late = organic([6, 24, 48, 96])
    last = late[-1]
    late.append(Snap(T0 + timedelta(hours=102), last.views * 3, last.likes * 3))
    found = findings(late, T0)
    assert {f.check for f in found} == {"late_burst"}
    assert "days after publication" in found[0].detail


def test_an_inflated_post_holds_the_payout_for_staff(world: World) -> None:
    order_id, brand, creator = world.to_state("published")
    staff = world.staff()
    # staff record what the platform shows: far more likes than views
    ok(world.metrics(order_id, staff, views=800, likes=9_000), 201)
    clock.advance(timedelta(days=40))
    world.sweep()
    order = world.get_order(order_id, brand)
    assert order["state"] == "disputed"
    dispute = ok(
        world.client.get(f"/api/v1/disputes/{order['open_dispute_id']}", headers=staff.headers)
    )
    assert (
        "inflated" in dispute["reason"] and "9,000 engagements for 800 views" in dispute["reason"]
    )
    events = ok(world.client.get(f"/api/v1/orders/{order_id}/events", headers=staff.headers))
    held = [e for e in events["items"] if e["to_state"] == "disputed"]
    assert held and held[0]["data"]["inflation"][0]["check"] == "engagement_exceeds_views"
    # staff release it after looking: the creator is paid as usual
    ok(
        world.client.post(
            f"/api/v1/disputes/{order['open_dispute_id']}/resolve",
            json={"resolution": "release", "note": "A giveaway explains the likes"},
            headers=staff.headers,
        )
    )
    assert world.get_order(order_id, brand)["state"] == "completed"


def test_genuine_metrics_complete_as_before(world: World) -> None:
    order_id, brand, _ = world.to_state("published")
    staff = world.staff()
    ok(world.metrics(order_id, staff, views=12_000, likes=500, comments=80, saves=100), 201)
    clock.advance(timedelta(days=40))
    world.sweep()
    assert world.get_order(order_id, brand)["state"] == "completed"
    assert now() > T0


def test_comments_from_bots_are_a_finding_once_enough_were_read() -> None:
    audit = {"comments": 80, "suspicious": 40}
    assert [f.check for f in findings([], T0, audit)] == ["suspicious_engagement"]
    assert findings([], T0, {"comments": 80, "suspicious": 20}) == []
    assert findings([], T0, {"comments": 12, "suspicious": 12}) == []  # too few to judge
