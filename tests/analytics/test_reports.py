"""Reports: every metric of an order against hand-computed values, KPIs judged by the
dictionary with tracked clicks and conversions, exports, access, and benchmarks."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from openpyxl import load_workbook

from pappus.analytics.conversions import canonical_json, sign
from pappus.analytics.dictionary import MetricInputs
from pappus.analytics.measure import OrderMeasure
from pappus.analytics.reports import BENCHMARK_MIN_ORDERS, _groups, benchmark_comparison
from pappus.kit.clock import clock, now
from pappus.orders.models import Order
from tests.fixtures.builders import ok

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"
TABLET = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) Mobile/15E148"


def _webhook(world, store: dict[str, Any], payload: dict[str, Any]) -> Any:  # type: ignore[no-untyped-def]
    body = canonical_json(payload)
    signature = sign(store["signing_secret"], int(now().timestamp()), body)
    return world.client.post(
        "/api/v1/conversions",
        content=body,
        headers={"Pappus-Store": store["id"], "Pappus-Signature": signature},
    )


def _measured_order(world, app):  # type: ignore[no-untyped-def]
    """A completed order with a link, clicks before and after publication, a coupon sale, a
    refunded sale and one snapshot; returns (order id, brand, creator, staff, campaign)."""
    brand = world.brand()
    creator = world.creator(followers=25_000)
    staff = world.staff()
    campaign = world.campaign(
        brand,
        compensation_model="fixed_plus_bonus",
        compensation={"bonus_cap_amount": 100_000},
        categories=["beauty"],
        kpis=[{"metric": "clicks", "target": 2}, {"metric": "conversions", "target": 2}],
    )
    application = world.application(creator, campaign, quote=500_000)
    order_id = ok(
        world.client.post(
            f"/api/v1/applications/{application['id']}/accept", headers=brand.headers
        ),
        201,
    )["order"]["id"]
    link = ok(
        world.client.post(
            f"/api/v1/orders/{order_id}/links",
            json={"destination": "https://shop.example/serum"},
            headers=brand.headers,
        ),
        201,
    )

    def click(agent: str) -> None:
        response = world.client.get(
            f"/r/{link['code']}", headers={"user-agent": agent}, follow_redirects=False
        )
        assert response.status_code == 302

    click(PHONE)  # before publication: recorded, not counted for the order
    app.state.clicks.flush()
    draft = world.submit_draft(order_id, creator)
    world.approve(order_id, draft, brand)
    clock.advance(timedelta(hours=2))
    world.publish(order_id, creator)
    clock.advance(timedelta(hours=2))
    click(PHONE)
    click(PHONE)  # the same visit: a duplicate
    click(TABLET)
    app.state.clicks.flush()
    store = ok(
        world.client.post(
            "/api/v1/stores", json={"name": "Shop", "currency": "CNY"}, headers=brand.headers
        ),
        201,
    )
    coupon = ok(
        world.client.post(f"/api/v1/orders/{order_id}/coupons", json={}, headers=brand.headers),
        201,
    )
    for store_order, amount in (("S-1", 30_000), ("S-2", 8_000)):
        paid = {
            "type": "order.paid",
            "order_id": store_order,
            "occurred_at": now().isoformat(),
            "amount": amount,
            "currency": "CNY",
            "coupon_codes": [coupon["code"]],
        }
        ok(_webhook(world, store, paid), 201)
    cancelled = {"type": "order.cancelled", "order_id": "S-2", "occurred_at": now().isoformat()}
    ok(_webhook(world, store, cancelled), 201)
    clock.advance(timedelta(days=1))
    ok(
        world.metrics(order_id, staff, views=10_000, likes=400, comments=50, saves=100, shares=50),
        201,
    )
    clock.advance(timedelta(days=7))
    world.sweep()
    return order_id, brand, creator, staff, campaign


def test_order_report_kpis_and_exports(world, app) -> None:  # type: ignore[no-untyped-def]
    order_id, brand, creator, staff, campaign = _measured_order(world, app)
    order = world.get_order(order_id, brand)
    assert order["state"] == "completed"
    kpis = {k["metric"]: (k["actual"], k["met"]) for k in order["kpi_result"]["kpis"]}
    # Valid clicks after publication (the duplicate and the early click do not count); the
    # cancelled sale does not count.
    assert kpis == {"clicks": (2, True), "conversions": (1, False)}
    assert order["kpi_result"]["dictionary_version"] == "1.0"
    assert order["settlement"]["bonus_amount"] == 50_000

    report = ok(world.client.get(f"/api/v1/orders/{order_id}/report", headers=brand.headers))
    [row] = report["orders"]
    metrics = row["metrics"]
    # spend: gross 550,000 (price + half the bonus) + 10% brand fee 55,000
    expected = {
        "views": 10_000,
        "engagements": 600,
        "followers": 25_000,
        "clicks": 2,
        "conversions": 1,
        "revenue": 30_000,
        "spend": 605_000,
        "engagement_rate_by_views": 0.06,
        "engagement_rate_by_followers": 0.024,
        "saves_rate": 0.01,
        "ctr": 0.0002,
        "conversion_rate": 0.5,
        "roas": 0.049587,  # 30,000 / 605,000 = 0.0495867..., half up at 6 places
        "cpm": 60_500,  # 605,000 x 1,000 / 10,000
        "cpe": 1_008,  # 605,000 / 600 = 1,008.33
        "cpc": 302_500,
        "cost_per_conversion": 605_000,
    }
    assert {k: metrics[k] for k in expected} == expected
    assert row["clicks_source"] == "tracking" and row["tier"] == "koc"
    assert report["totals"]["CNY"]["spend"] == 605_000
    assert report["clicks_quality"] == {
        "clicks": 4,
        "valid_clicks": 3,
        "bot_clicks": 0,
        "duplicate_clicks": 1,
    }
    assert report["series"][-1]["views"] == 10_000
    assert sum(p["valid_clicks"] for p in report["series"]) == 3
    assert sum(p["conversions"] for p in report["series"]) == 1

    # The creator reads it too; a stranger is told it does not exist.
    ok(world.client.get(f"/api/v1/orders/{order_id}/report", headers=creator.headers))
    stranger = world.brand()
    assert (
        world.client.get(f"/api/v1/orders/{order_id}/report", headers=stranger.headers).status_code
        == 404
    )

    exported = world.client.get(
        f"/api/v1/campaigns/{campaign['id']}/report?format=csv", headers=brand.headers
    )
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["order_id"] for r in rows] == [order_id, "TOTAL"]
    assert rows[0]["cpe"] == "1008" and rows[1]["currency"] == "CNY"
    series = world.client.get(
        f"/api/v1/campaigns/{campaign['id']}/report?format=csv&part=series", headers=brand.headers
    )
    assert series.text.splitlines()[0].startswith("day,views,likes")
    workbook = world.client.get(
        f"/api/v1/campaigns/{campaign['id']}/report?format=xlsx", headers=brand.headers
    )
    book = load_workbook(io.BytesIO(workbook.content))
    assert book.sheetnames == ["Summary", "Orders", "Series", "Benchmark"]
    summary = {r[0]: r[4] for r in book["Summary"].iter_rows(min_row=6, values_only=True)}
    assert summary["cpm"] == 60_500
    assert len(book["Series"]._charts) == 2
    bad = world.client.get(
        f"/api/v1/campaigns/{campaign['id']}/report?format=pdf", headers=brand.headers
    )
    assert bad.status_code == 422


def test_campaign_creator_and_brand_reports(world, app) -> None:  # type: ignore[no-untyped-def]
    order_id, brand, creator, staff, campaign = _measured_order(world, app)
    report = ok(
        world.client.get(f"/api/v1/campaigns/{campaign['id']}/report", headers=brand.headers)
    )
    assert report["subject"]["name"] == campaign["name"]
    assert report["totals"]["CNY"]["roas"] == 0.049587
    assert report["previous_campaigns"] == []
    peers = report["benchmark"]["peers"]
    assert peers["orders"] == 0 and "fewer than" in peers["note"]
    creator_view = ok(
        world.client.get(f"/api/v1/creators/{creator.creator_id}/report", headers=creator.headers)
    )
    assert [o["order_id"] for o in creator_view["orders"]] == [order_id]
    other = world.brand()
    assert (
        world.client.get(
            f"/api/v1/creators/{creator.creator_id}/report", headers=other.headers
        ).status_code
        == 404
    )
    brand_view = ok(
        world.client.get(
            f"/api/v1/organizations/{brand.organization_id}/report", headers=brand.headers
        )
    )
    assert [c["campaign_id"] for c in brand_view["campaigns"]] == [campaign["id"]]
    assert (
        world.client.get(
            f"/api/v1/organizations/{brand.organization_id}/report", headers=other.headers
        ).status_code
        == 404
    )
    benchmarks = ok(
        world.client.get("/api/v1/benchmarks?category=beauty&tier=koc", headers=brand.headers)
    )
    assert benchmarks["orders"] == 0
    assert world.client.get("/api/v1/benchmarks", headers=creator.headers).status_code == 403
    # The periodic job stores a set; reports read the latest one.
    from pappus.analytics.reports import store_benchmarks

    with world.db.unit_of_work() as session:
        stored = store_benchmarks(session)
        assert stored.orders == 1
        keys = {tuple(g["key"]): g["orders"] for g in stored.groups}
        assert keys[("CNY:beauty", "koc")] == 1 and keys[("CNY:all", "all")] == 1
        computed_at = stored.computed_at
    latest = ok(world.client.get("/api/v1/benchmarks", headers=brand.headers))
    assert latest["computed_at"][:19] == computed_at.isoformat()[:19]
    assert (
        world.client.get("/api/v1/benchmarks?category=nope", headers=brand.headers).status_code
        == 422
    )


def _measure(
    views: int, engagements: int, spend: int, followers: int, category: str
) -> OrderMeasure:
    order = Order(
        id=f"ord_{views}_{category}",
        contract={"brief": {"categories": [category]}},
        currency="CNY",
        state="completed",
        campaign_id="cmp_1",
        creator_id="crt_1",
    )
    inputs = MetricInputs(views=views, likes=engagements, spend_amount=spend, followers=followers)
    return OrderMeasure(order, inputs, None, None, now(), "platform", False)


def test_benchmark_groups_quartiles_and_fallback() -> None:
    measures = [
        _measure(1_000 * (i + 1), 10 * (i + 1) ** 2, 100_000, 20_000, "beauty") for i in range(5)
    ]
    measures.append(_measure(1_000, 10, 100_000, 600_000, "food"))
    groups = _groups(measures)
    beauty = groups[("CNY:beauty", "koc")]
    assert beauty["orders"] == 5
    # engagement rates by views: 0.01, 0.02, 0.03, 0.04, 0.05
    assert beauty["metrics"]["engagement_rate_by_views"] == {
        "p25": 0.02,
        "median": 0.03,
        "p75": 0.04,
    }
    assert groups[("CNY:all", "all")]["orders"] == 6
    assert groups[("CNY:food", "head")]["orders"] == 1
    assert BENCHMARK_MIN_ORDERS == 5


def test_benchmark_comparison_places_the_subject(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pappus.analytics.reports as reports

    peers = [
        _measure(1_000 * (i + 1), 10 * (i + 1) ** 2, 100_000, 20_000, "beauty") for i in range(5)
    ]
    monkeypatch.setattr(reports, "benchmark_groups", lambda session: (_groups(peers), now()))
    subject = [_measure(10_000, 600, 100_000, 20_000, "beauty")]
    result = benchmark_comparison(None, subject)  # type: ignore[arg-type]
    assert result is not None
    assert (result["peers"]["category"], result["peers"]["tier"]) == ("beauty", "koc")
    rate = result["comparison"]["engagement_rate_by_views"]
    assert rate == {"value": 0.06, "median": 0.03, "index": 2.0, "quartile": "top"}


def test_series_carries_each_orders_latest_values_forward(db) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, date, datetime

    from pappus.analytics.models import MetricDaily
    from pappus.analytics.reports import series

    def row(order_id: str, day: int, views: int) -> MetricDaily:
        return MetricDaily(
            order_id=order_id,
            day=date(2026, 11, day),
            taken_at=datetime(2026, 11, day, 12, tzinfo=UTC),
            views=views,
            likes=views // 10,
            comments=0,
            saves=0,
            shares=0,
        )

    with db.unit_of_work() as session:
        session.add_all([row("ord_a", 1, 100), row("ord_a", 3, 300), row("ord_b", 2, 50)])
    with db.unit_of_work() as session:
        points = series(session, ["ord_a", "ord_b"])
    assert [(p["day"], p["views"], p["engagements"]) for p in points] == [
        ("2026-11-01", 100, 10),
        ("2026-11-02", 150, 15),
        ("2026-11-03", 350, 35),
    ]
    assert points[1]["clicks"] == 0


def test_comment_summaries_count_in_the_database(world) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from pappus.analytics import comments
    from pappus.analytics.models import CommentWord, PostComment

    order_id, _, _ = world.order()
    db = world.db
    texts = [
        ("这款Glow精华太好用了 保湿", "positive", 0.9),
        ("glow的保湿不如Lancome", "negative", 0.2),
        ("Lancome yyds 保湿", "positive", 0.8),
        ("求链接", "neutral", 0.5),
        ("100%_test 保湿", "neutral", 0.5),
    ]
    with db.unit_of_work() as session:
        for n, (text, label, score) in enumerate(texts):
            session.add(
                PostComment(
                    id=f"cmt_{n}",
                    order_id=order_id,
                    campaign_id="cmp_1",
                    external_id=str(n),
                    author_hash="a",
                    text=text,
                    posted_at=datetime(2026, 11, 30, tzinfo=UTC),
                    sentiment=label,
                    sentiment_score=score,
                    model_version="t",
                )
            )
            for word in comments.words_of(text):
                session.add(
                    CommentWord(
                        comment_id=f"cmt_{n}", word=word, order_id=order_id, sentiment=label
                    )
                )
    with db.unit_of_work() as session:
        summary = comments.sentiment_summary(session, [order_id])
        words = comments.hot_words(session, [order_id])
        voice = comments.share_of_voice(
            session, [order_id], ["Glow"], {"Lancome": ["lancome"], "Pct": ["100%_"]}
        )
    assert (summary["comments"], summary["positive"], summary["negative"]) == (5, 2, 1)
    assert summary["net_sentiment"] == 0.2 and summary["mean_score"] == 0.58
    assert words[0] == {"word": "保湿", "comments": 4, "positive": 2, "negative": 1}
    by_name = {n["name"]: (n["mentions"], n["positive"], n["negative"]) for n in voice["names"]}
    # Case-insensitive, and % and _ in a term are literal characters.
    assert by_name == {"brand": (2, 1, 1), "Lancome": (2, 1, 1), "Pct": (1, 0, 0)}
    assert voice["total_mentions"] == 5
