"""Reports per order, campaign, creator and brand: the dictionary's metrics over summed
inputs, daily time series for charts, click quality, benchmarks by category and tier, and
the brand's previous campaigns. Exports are in exports.py."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pappus.accounts.principal import Access, Principal
from pappus.analytics import comments
from pappus.analytics import repository as repo
from pappus.analytics.dictionary import DICTIONARY_VERSION, MetricInputs, compute
from pappus.analytics.measure import OrderMeasure, measure_orders
from pappus.analytics.models import BenchmarkSet
from pappus.analytics.rollups import DAILY_FIELDS
from pappus.campaigns import service as campaigns
from pappus.creators import service as creators
from pappus.creators.taxonomy import tier_for
from pappus.errors import Forbidden, NotFound
from pappus.kit.clock import now
from pappus.orders import service as orders
from pappus.orders.models import Order

MAX_SERIES_DAYS = 400
BENCHMARK_METRICS = (
    "engagement_rate_by_views",
    "engagement_rate_by_followers",
    "saves_rate",
    "ctr",
    "conversion_rate",
    "cpm",
    "cpe",
    "cpc",
    "roas",
)
BENCHMARK_MIN_ORDERS = 5
BENCHMARK_STATES = ("published", "completed")
BENCHMARK_MAX_ORDERS = 5_000


def _sum(inputs: Iterable[MetricInputs]) -> MetricInputs:
    total = MetricInputs()
    for item in inputs:
        total = total + item
    return total


def category_of(order: Order) -> str:
    brief = order.contract.get("brief") or {}
    categories = brief.get("categories") or []
    return str(categories[0]) if categories else "uncategorised"


def tier_of(measure: OrderMeasure) -> str:
    return tier_for(measure.inputs.followers) or "under"


def _order_row(measure: OrderMeasure) -> dict[str, Any]:
    order = measure.order
    return {
        "order_id": order.id,
        "campaign_id": order.campaign_id,
        "creator_id": order.creator_id,
        "state": order.state,
        "currency": order.currency,
        "category": category_of(order),
        "tier": tier_of(measure),
        "published_at": measure.published_at,
        "window_end": measure.window_end,
        "snapshot_taken_at": measure.snapshot_taken_at,
        "clicks_source": measure.clicks_source,
        "follower_growth_measured": measure.follower_growth_measured,
        "metrics": compute(measure.inputs),
    }


def _clicks_quality(session: Session, order_ids: list[str]) -> dict[str, int]:
    totals = repo.click_totals(session, order_ids, None, None)
    quality = {"clicks": 0, "valid_clicks": 0, "bot_clicks": 0, "duplicate_clicks": 0}
    for entry in totals.values():
        for key in quality:
            quality[key] += entry[key]
    return quality


def series(session: Session, order_ids: list[str]) -> list[dict[str, Any]]:
    """Per UTC day: cumulative views and engagements (each order's latest snapshot of the day
    or earlier, summed), and that day's clicks, valid clicks, conversions and revenue."""
    cumulative: dict[str, dict[date, dict[str, int]]] = defaultdict(dict)
    days: set[date] = set()
    for order_id, day, views, likes, comment_count, saves, shares in repo.daily_metrics(
        session, order_ids
    ):
        when = day if isinstance(day, date) else date.fromisoformat(str(day))
        cumulative[order_id][when] = {
            "views": views,
            "likes": likes,
            "comments": comment_count,
            "saves": saves,
            "shares": shares,
        }
        days.add(when)
    daily: dict[date, dict[str, int]] = defaultdict(
        lambda: {"clicks": 0, "valid_clicks": 0, "conversions": 0, "revenue_amount": 0}
    )
    for hour, clicks, valid in repo.click_series(session, order_ids):
        day = hour.astimezone(UTC).date()
        daily[day]["clicks"] += int(clicks or 0)
        daily[day]["valid_clicks"] += int(valid or 0)
        days.add(day)
    for when, count, revenue in repo.conversion_series(session, order_ids):
        day = when if isinstance(when, date) else date.fromisoformat(str(when))
        daily[day]["conversions"] += int(count)
        daily[day]["revenue_amount"] += int(revenue or 0)
        days.add(day)
    if not days:
        return []
    first, last = min(days), max(days)
    first = max(first, last - timedelta(days=MAX_SERIES_DAYS - 1))
    fields = DAILY_FIELDS
    # Running sums of each order's latest cumulative values: a day changes only the orders
    # with a snapshot that day, so the series costs O(days + rows), not O(days x orders).
    totals = dict.fromkeys(fields, 0)
    carried: dict[str, dict[str, int]] = {}

    def carry(order_id: str, values: dict[str, int]) -> None:
        previous = carried.get(order_id)
        for name in fields:
            totals[name] += values[name] - (previous[name] if previous else 0)
        carried[order_id] = values

    by_day: dict[date, list[tuple[str, dict[str, int]]]] = defaultdict(list)
    for order_id, values_by_day in cumulative.items():
        earlier = [d for d in values_by_day if d < first]
        if earlier:  # rows before the first day shown still carry into it
            carry(order_id, values_by_day[max(earlier)])
        for day, values in values_by_day.items():
            if day >= first:
                by_day[day].append((order_id, values))
    empty = {"clicks": 0, "valid_clicks": 0, "conversions": 0, "revenue_amount": 0}
    points = []
    day = first
    while day <= last:
        for order_id, values in by_day.get(day, ()):
            carry(order_id, values)
        engagements = totals["likes"] + totals["comments"] + totals["saves"] + totals["shares"]
        points.append(
            {"day": day.isoformat(), **totals, "engagements": engagements, **daily.get(day, empty)}
        )
        day += timedelta(days=1)
    return points


def _report(
    session: Session, kind: str, subject: dict[str, Any], found: list[Order]
) -> dict[str, Any]:
    measures = measure_orders(session, found)
    order_ids = [o.id for o in found]
    by_currency: dict[str, list[MetricInputs]] = defaultdict(list)
    for measure in measures:
        by_currency[measure.order.currency].append(measure.inputs)
    totals = {currency: compute(_sum(items)) for currency, items in sorted(by_currency.items())}
    return {
        "kind": kind,
        "subject": subject,
        "dictionary_version": DICTIONARY_VERSION,
        "generated_at": now(),
        "orders_count": len(found),
        # Money adds up only within a currency; most subjects have one.
        "totals": totals,
        "clicks_quality": _clicks_quality(session, order_ids),
        "orders": [_order_row(m) for m in measures],
        "series": series(session, order_ids),
        "_measures": measures,
    }


def _public(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if not k.startswith("_")}


def order_report(session: Session, principal: Principal, order_id: str) -> dict[str, Any]:
    order = orders.get_order(session, principal, order_id)
    report = _report(session, "order", {"id": order.id, "campaign_id": order.campaign_id}, [order])
    report["benchmark"] = benchmark_comparison(session, report["_measures"])
    report["comments"] = comments_section(session, [order.id], [], [])
    return _public(report)


def campaign_report(
    session: Session,
    principal: Principal,
    campaign_id: str,
    *,
    brand_terms: list[str] | None = None,
    competitors: list[str] | None = None,
) -> dict[str, Any]:
    campaign = campaigns.get_campaign(session, principal, campaign_id)
    found = orders.orders_of(session, campaign_id=campaign.id)
    subject = {
        "id": campaign.id,
        "name": campaign.name,
        "organization_id": campaign.organization_id,
        "status": campaign.status,
        "currency": campaign.currency,
        "budget_amount": campaign.budget_amount,
        "categories": campaign.categories,
    }
    report = _report(session, "campaign", subject, found)
    report["benchmark"] = benchmark_comparison(session, report["_measures"])
    report["previous_campaigns"] = previous_campaigns(
        session, campaign.organization_id, exclude=campaign.id
    )
    product = campaign.product or {}
    terms = brand_terms or [t for t in (product.get("brand"), product.get("name")) if t]
    report["comments"] = comments_section(session, [o.id for o in found], terms, competitors or [])
    return _public(report)


def comments_section(
    session: Session, order_ids: list[str], brand_terms: list[str], competitors: list[str]
) -> dict[str, Any]:
    """Sentiment of the posts' comments, their hot words, and share of voice."""
    return {
        "sentiment": comments.sentiment_summary(session, order_ids),
        "hot_words": comments.hot_words(session, order_ids),
        "share_of_voice": comments.share_of_voice(
            session, order_ids, brand_terms, {name: [name] for name in competitors}
        ),
    }


def creator_report(session: Session, principal: Principal, creator_id: str) -> dict[str, Any]:
    """A creator sees all their orders; a brand the ones with its organizations; staff all."""
    creators.get_profile(session, creator_id)  # unknown ids are not found, for everyone
    if principal.api_key_id is not None and not principal.has_scope("orders:read"):
        raise Forbidden("this API key lacks the 'orders:read' scope", code="missing_scope")
    found = orders.orders_of(session, creator_id=creator_id)
    if principal.is_staff or principal.creator_id == creator_id:
        visible = found
    else:
        visible = [o for o in found if principal.can(o.organization_id, Access.read, "orders:read")]
        if not visible:
            raise NotFound("creator not found")
    report = _report(session, "creator", {"id": creator_id}, visible)
    report["benchmark"] = benchmark_comparison(session, report["_measures"])
    return _public(report)


def brand_report(session: Session, principal: Principal, organization_id: str) -> dict[str, Any]:
    if not principal.is_staff:
        principal.require_org(organization_id, Access.read, "orders:read", what="organization")
    found = orders.orders_of(session, organization_id=organization_id)
    report = _report(session, "brand", {"id": organization_id}, found)
    report["campaigns"] = _per_campaign(report["_measures"])
    return _public(report)


def _per_campaign(measures: list[OrderMeasure]) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, str], list[OrderMeasure]] = defaultdict(list)
    for measure in measures:
        grouped[(measure.order.campaign_id, measure.order.currency)].append(measure)
    return [
        {
            "campaign_id": campaign_id,
            "campaign_name": group[0].order.contract.get("campaign_name", ""),
            "currency": currency,
            "orders_count": len(group),
            "metrics": compute(_sum(m.inputs for m in group)),
        }
        for (campaign_id, currency), group in sorted(grouped.items())
    ]


def previous_campaigns(
    session: Session, organization_id: str, exclude: str, limit: int = 10
) -> list[dict[str, Any]]:
    """The brand's newest other campaigns with orders (ids sort by creation), for comparison;
    only their orders are measured."""
    by_campaign: dict[str, list[Order]] = defaultdict(list)
    for order in orders.orders_of(session, organization_id=organization_id):
        if order.campaign_id != exclude:
            by_campaign[order.campaign_id].append(order)
    newest = sorted(by_campaign, reverse=True)[:limit]
    measured = measure_orders(session, [o for c in newest for o in by_campaign[c]])
    rows = _per_campaign(measured)
    rows.sort(key=lambda r: r["campaign_id"], reverse=True)
    return rows


# -- benchmarks -------------------------------------------------------------------------------


def _distribution(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return {"p25": ordered[0], "median": ordered[0], "p75": ordered[0]}
    quartiles = statistics.quantiles(ordered, n=4, method="inclusive")
    return {
        "p25": round(quartiles[0], 6),
        "median": round(statistics.median(ordered), 6),
        "p75": round(quartiles[2], 6),
    }


def _groups(measures: list[OrderMeasure]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (category, tier), with "all" for either: how many orders and each metric's
    quartiles over the orders that have it. Money metrics only within one currency: peers
    are grouped by currency too, in the key's category part."""
    buckets: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for measure in measures:
        metrics = compute(measure.inputs)
        category, tier = category_of(measure.order), tier_of(measure)
        currency = measure.order.currency
        for key in ((category, tier), (category, "all"), ("all", tier), ("all", "all")):
            buckets[(f"{currency}:{key[0]}", key[1])].append(metrics)
    groups = {}
    for key, rows in buckets.items():
        groups[key] = {
            "orders": len(rows),
            "metrics": {
                name: _distribution([r[name] for r in rows if r[name] is not None])
                for name in BENCHMARK_METRICS
            },
        }
    return groups


def compute_benchmarks(session: Session) -> tuple[dict[tuple[str, str], dict[str, Any]], int]:
    """Measure the latest published and completed orders and group them; with how many were
    measured. Seconds for thousands of orders: the periodic job does it, not the reports."""
    found = orders.recent_orders_in_states(session, BENCHMARK_STATES, BENCHMARK_MAX_ORDERS)
    measured = [m for m in measure_orders(session, found) if m.snapshot_taken_at is not None]
    return _groups(measured), len(measured)


def store_benchmarks(session: Session) -> BenchmarkSet:
    """Compute and keep a benchmark set; sets older than a day are dropped."""
    groups, measured = compute_benchmarks(session)
    at = now()
    stored = BenchmarkSet(
        computed_at=at,
        orders=measured,
        groups=[{"key": list(key), **value} for key, value in sorted(groups.items())],
    )
    repo.add(session, stored)
    repo.prune_benchmark_sets(session, at - timedelta(days=1))
    return stored


def benchmark_groups(
    session: Session,
) -> tuple[dict[tuple[str, str], dict[str, Any]], datetime]:
    """The latest stored set and when it was computed; computed on the spot when the job has
    not run yet (a new installation, with few orders to measure)."""
    stored = repo.latest_benchmark_set(session)
    if stored is None:
        return compute_benchmarks(session)[0], now()
    return {(g["key"][0], g["key"][1]): g for g in stored.groups}, stored.computed_at


def benchmark(session: Session, currency: str, category: str, tier: str) -> dict[str, Any]:
    """The narrowest group with enough orders: category and tier, then category, then tier,
    then the whole platform (in the currency)."""
    groups, computed_at = benchmark_groups(session)
    for cat, tr in ((category, tier), (category, "all"), ("all", tier), ("all", "all")):
        group = groups.get((f"{currency}:{cat}", tr))
        if group is not None and group["orders"] >= BENCHMARK_MIN_ORDERS:
            return {
                "currency": currency,
                "category": cat,
                "tier": tr,
                "computed_at": computed_at,
                "orders": group["orders"],
                "metrics": group["metrics"],
            }
    return {
        "currency": currency,
        "category": category,
        "tier": tier,
        "computed_at": computed_at,
        "orders": 0,
        "metrics": {},
        "note": f"fewer than {BENCHMARK_MIN_ORDERS} measured orders to compare with",
    }


def benchmark_comparison(session: Session, measures: list[OrderMeasure]) -> dict[str, Any] | None:
    """The subject's metrics beside the benchmark of its most common category and tier."""
    if not measures:
        return None
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for measure in measures:
        counts[(measure.order.currency, category_of(measure.order), tier_of(measure))] += 1
    currency, category, tier = max(counts, key=lambda k: counts[k])
    peers = benchmark(session, currency, category, tier)
    own = compute(_sum(m.inputs for m in measures if m.order.currency == currency))
    comparison = {}
    for name, distribution in peers.get("metrics", {}).items():
        value = own.get(name)
        if distribution is None or value is None:
            continue
        median = distribution["median"]
        comparison[name] = {
            "value": value,
            "median": median,
            "index": round(value / median, 4) if median else None,
            "quartile": (
                "top"
                if value >= distribution["p75"]
                else "above_median"
                if value >= median
                else "below_median"
                if value >= distribution["p25"]
                else "bottom"
            ),
        }
    return {"peers": peers, "comparison": comparison}


def check_benchmark_access(principal: Principal) -> None:
    """Benchmarks are aggregates of at least BENCHMARK_MIN_ORDERS orders: any signed-in brand
    member or staff may read them; creators see them in their own reports."""
    if not (principal.is_staff or principal.roles):
        raise Forbidden("benchmarks are for brands and staff", code="brand_only")
