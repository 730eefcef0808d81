"""The inputs of the metric dictionary for orders, read from where each one comes from:
snapshots (orders), tracking-link rollups and conversions (here), follower counts
(connectors) and the contract and settlement (orders). Reports and KPI evaluation both start
here, so a number means the same everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from pappus.analytics import repository as repo
from pappus.analytics.dictionary import MetricInputs
from pappus.connectors import service as connectors
from pappus.creators import service as creators
from pappus.kit.money import apply_rate
from pappus.orders import service as orders
from pappus.orders.models import Order, Publication

BASELINE_DAYS = 30


@dataclass(frozen=True)
class OrderMeasure:
    order: Order
    inputs: MetricInputs
    published_at: datetime | None
    window_end: datetime | None
    snapshot_taken_at: datetime | None
    clicks_source: str  # tracking | platform
    follower_growth_measured: bool


def spend_amount(order: Order) -> int:
    """Settled: what the creator earned plus the brand fee on it; before: price plus its fee."""
    money = order.contract["money"]
    if order.settlement:
        return int(order.settlement["creator_gross_amount"]) + int(
            order.settlement["brand_fee_amount"]
        )
    if order.state == "cancelled":
        return 0
    return order.price_amount + apply_rate(order.price_amount, money["brand_fee_bp"])


def _count_on(counts: dict[date, int], day: date) -> int | None:
    """The latest count on or before `day`."""
    known = [d for d in counts if d <= day]
    return counts[max(known)] if known else None


def _followers(
    session: Session, publications: dict[str, Publication], ends: dict[str, datetime | None]
) -> dict[str, tuple[int, int, int, bool]]:
    """Per order: (followers at publication, growth, baseline growth, measured)."""
    accounts = {
        order_id: p.social_account_id
        for order_id, p in publications.items()
        if p.social_account_id is not None
    }
    if not accounts:
        return {}
    earliest = min(p.published_at for p in publications.values()).date()
    history = connectors.follower_counts(
        session, sorted(set(accounts.values())), earliest - timedelta(days=BASELINE_DAYS + 7)
    )
    found: dict[str, tuple[int, int, int, bool]] = {}
    for order_id, account_id in accounts.items():
        counts = history.get(account_id, {})
        start_day = publications[order_id].published_at.date()
        end = ends.get(order_id)
        end_day = end.date() if end else max(counts, default=start_day)
        at_start = _count_on(counts, start_day)
        at_end = _count_on(counts, end_day)
        before = _count_on(counts, start_day - timedelta(days=BASELINE_DAYS))
        if at_start is None:
            continue
        if at_end is None or before is None or end_day <= start_day:
            found[order_id] = (at_start, 0, 0, False)
            continue
        span = (end_day - start_day).days
        baseline = round((at_start - before) * span / BASELINE_DAYS)
        found[order_id] = (at_start, at_end - at_start, baseline, True)
    return found


def measure_orders(session: Session, found: list[Order]) -> list[OrderMeasure]:
    """Every order's dictionary inputs, in a handful of queries plus one per order."""
    ids = [o.id for o in found]
    publications = orders.publications_of(session, ids)
    ends = {o.id: o.measurement_ends_at for o in found}
    starts = {
        order_id: p.published_at.replace(minute=0, second=0, microsecond=0)
        for order_id, p in publications.items()
    }
    tracked_links = repo.orders_with_links(session, ids)
    clicks = repo.click_totals_between(session, ids, starts, ends)
    conversions = repo.conversion_totals(session, ids, ends)
    followers = _followers(session, publications, ends)
    measures = []
    for order in found:
        snapshot = orders.measured_snapshot(session, order)
        values, taken_at = snapshot if snapshot else ({}, None)
        tracked = order.id in tracked_links
        converted = conversions.get(order.id, {})
        at_start, growth, baseline, growth_known = followers.get(order.id, (0, 0, 0, False))
        if order.id not in followers:
            # No linked account on the post's platform: the profile's current count.
            at_start = creators.get_profile(session, order.creator_id).followers
        inputs = MetricInputs(
            views=values.get("views", 0),
            likes=values.get("likes", 0),
            comments=values.get("comments", 0),
            saves=values.get("saves", 0),
            shares=values.get("shares", 0),
            followers=at_start,
            clicks=clicks.get(order.id, 0) if tracked else values.get("clicks", 0),
            conversions=(
                converted.get("conversions", 0) if converted else values.get("conversions", 0)
            ),
            revenue_amount=converted.get("revenue_amount", 0),
            spend_amount=spend_amount(order),
            follower_growth=growth,
            baseline_follower_growth=baseline,
        )
        publication = publications.get(order.id)
        measures.append(
            OrderMeasure(
                order=order,
                inputs=inputs,
                published_at=publication.published_at if publication else None,
                window_end=order.measurement_ends_at,
                snapshot_taken_at=taken_at,
                clicks_source="tracking" if tracked else "platform",
                follower_growth_measured=growth_known,
            )
        )
    return measures


def kpi_snapshot(session: Session, order: Order) -> dict[str, int] | None:
    """The values KPIs are judged on: the measured snapshot, with clicks and conversions from
    tracking links and the conversion webhook when the order has them."""
    [measure] = measure_orders(session, [order])
    inputs = measure.inputs
    if (
        measure.snapshot_taken_at is None
        and measure.clicks_source == "platform"
        and not inputs.conversions
    ):
        return None
    return {
        "views": inputs.views,
        "likes": inputs.likes,
        "comments": inputs.comments,
        "saves": inputs.saves,
        "shares": inputs.shares,
        "clicks": inputs.clicks,
        "conversions": inputs.conversions,
    }
