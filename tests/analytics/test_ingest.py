"""Batch ingestion: metric snapshots judged item by item, and click batches whose visits are
claimed once across batches."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from pappus.analytics.clicks import ClickIn, ingest_clicks
from pappus.analytics.models import Click, ClickRollup, ClickVisit, MetricDaily
from pappus.kit.clock import clock, now
from tests.fixtures.builders import ok


def test_snapshot_batches_are_judged_item_by_item(world) -> None:  # type: ignore[no-untyped-def]
    order_id, brand, creator = world.to_state("published")
    unpublished, _, _ = world.order(brand=brand)
    key = world.api_key(brand, ["metrics:write"])
    other = world.brand()
    other_key = world.api_key(other, ["metrics:write"])
    clock.advance(timedelta(hours=5))
    first = now() - timedelta(hours=2)
    later = now() - timedelta(hours=1)
    items = [
        {"order_id": order_id, "taken_at": first.isoformat(), "views": 100, "likes": 5},
        {"order_id": order_id, "taken_at": later.isoformat(), "views": 300, "likes": 9},
        {"order_id": "ord_missing", "taken_at": later.isoformat()},
        {"order_id": unpublished, "taken_at": later.isoformat()},
        {"order_id": order_id, "taken_at": (now() + timedelta(hours=1)).isoformat()},
        {"order_id": order_id, "taken_at": (now() - timedelta(days=30)).isoformat()},
    ]
    result = ok(
        world.client.post(
            "/api/v1/metrics/snapshots", json={"snapshots": items}, headers=key.headers
        )
    )
    assert (result["created"], result["duplicates"], result["rejected"]) == (2, 0, 4)
    assert [r["status"] for r in result["results"]] == [
        "created",
        "created",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert [r["code"] for r in result["results"][2:]] == [
        "not_found",
        "order_not_in_state",
        "invalid_input",
        "invalid_input",
    ]
    # A retry of the same batch creates nothing; a changed value is a conflict.
    again = ok(
        world.client.post(
            "/api/v1/metrics/snapshots",
            json={"snapshots": [items[0], {**items[1], "views": 301}]},
            headers=key.headers,
        )
    )
    assert [r["status"] for r in again["results"]] == ["duplicate", "rejected"]
    assert again["results"][0]["id"] == result["results"][0]["id"]
    assert again["results"][1]["code"] == "snapshot_conflict"
    # Another brand's key learns nothing about the order.
    foreign = ok(
        world.client.post(
            "/api/v1/metrics/snapshots", json={"snapshots": [items[0]]}, headers=other_key.headers
        )
    )
    assert foreign["results"][0]["code"] == "not_found"
    # Users of the brand are not a source of metrics.
    assert (
        world.client.post(
            "/api/v1/metrics/snapshots", json={"snapshots": [items[0]]}, headers=brand.headers
        ).status_code
        == 403
    )
    oversized = world.client.post(
        "/api/v1/metrics/snapshots",
        json={"snapshots": [items[0]] * 5_001},
        headers=key.headers,
    )
    assert oversized.status_code in {413, 422}
    listed = ok(world.client.get(f"/api/v1/orders/{order_id}/metrics", headers=brand.headers))
    assert sorted(m["views"] for m in listed["items"] if m["source"] == "api_key") == [100, 300]
    with world.db.unit_of_work() as session:
        days = session.scalars(select(MetricDaily).where(MetricDaily.order_id == order_id)).all()
        latest = max(days, key=lambda d: d.taken_at)
        assert latest.views == 300


def _click(n: int, at: datetime, visitor: str, bot: bool = False) -> ClickIn:
    return ClickIn(
        id=f"clk_{n:04d}",
        link_id="lnk_1",
        order_id="ord_1",
        campaign_id="cmp_1",
        organization_id="org_1",
        at=at,
        visitor_hash=visitor,
        user_agent="Mozilla/5.0",
        referrer="",
        is_bot=bot,
    )


def test_click_batches_claim_each_visit_once(db) -> None:  # type: ignore[no-untyped-def]
    base = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    with db.unit_of_work() as session:
        first = ingest_clicks(
            session,
            [
                _click(1, base, "a"),
                _click(2, base + timedelta(minutes=1), "a"),
                _click(3, base + timedelta(minutes=2), "b", bot=True),
            ],
        )
    assert (first.clicks, first.valid, first.bots, first.duplicates) == (3, 1, 1, 1)
    with db.unit_of_work() as session:
        # The same visitor in the same bucket in a later batch is still a repeat; in the
        # next bucket (10:30) it is a new visit.
        second = ingest_clicks(
            session,
            [
                _click(4, base + timedelta(minutes=20), "a"),
                _click(5, base + timedelta(minutes=31), "a"),
            ],
        )
    assert (second.valid, second.duplicates) == (1, 1)
    with db.unit_of_work() as session:
        [rollup] = session.scalars(select(ClickRollup)).all()
        assert (
            rollup.clicks,
            rollup.valid_clicks,
            rollup.bot_clicks,
            rollup.duplicate_clicks,
        ) == (5, 2, 1, 2)


def test_a_retried_batch_counts_nothing_twice(db) -> None:  # type: ignore[no-untyped-def]
    base = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    batch = [_click(1, base, "a"), _click(2, base, "b")]
    with db.unit_of_work() as session:
        assert ingest_clicks(session, batch).valid == 2
    with db.unit_of_work() as session:
        again = ingest_clicks(session, [*batch, _click(3, base, "c")])
    assert (again.clicks, again.valid) == (1, 1)
    with db.unit_of_work() as session:
        [rollup] = session.scalars(select(ClickRollup)).all()
        assert (rollup.clicks, rollup.valid_clicks) == (3, 3)


def test_with_a_queue_the_buffer_hands_clicks_to_a_worker(db) -> None:  # type: ignore[no-untyped-def]
    from pappus.analytics.clicks import ClickBuffer
    from pappus.analytics.models import Click
    from pappus.analytics.tasks import enqueue_clicks
    from pappus.jobs import huey, use_database

    use_database(db)
    huey.immediate = True  # the job runs at once, as a worker would run it
    try:
        buffer = ClickBuffer(db, 0, sink=enqueue_clicks)
        at = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
        buffer.add(_click(7, at, "a"))
        buffer.add(_click(8, at, "a"))
    finally:
        huey.immediate = False
    with db.unit_of_work() as session:
        stored = session.scalars(select(Click).order_by(Click.id)).all()
        assert [(c.id, c.is_duplicate, c.at) for c in stored] == [
            ("clk_0007", False, at),
            ("clk_0008", True, at),
        ]


def _visit(link_id: str, visitor: str, at: datetime) -> str:
    """The visit key as every version has written it: processes of an older release claim
    the same keys, so its format must not change."""
    bucket = int(at.timestamp()) // (30 * 60)
    return hashlib.sha256(f"{link_id}|{visitor}|{bucket}".encode()).hexdigest()


def test_rollups_and_verdicts_equal_the_click_rows(db) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    base = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    # A comma in ids and a zone other than UTC take the statements' less common paths.
    links = {"lnk_1": ("ord_1", "cmp_1"), "lnk,2": ("ord,2", "cmp_1"), "lnk_3": ("ord_3", "cmp_2")}
    edges = [base + timedelta(hours=1, microseconds=-1), base + timedelta(hours=1)]
    clicks = []
    for n in range(600):
        link_id = rng.choice(sorted(links))
        at = edges[n] if n < 2 else base + timedelta(seconds=rng.randrange(3 * 3600))
        if n % 7 == 0:
            at = at.astimezone(timezone(timedelta(hours=8)))
        clicks.append(
            ClickIn(
                id=f"clk,{n:04d}" if n % 50 == 0 else f"clk_{n:04d}",
                link_id=link_id,
                order_id=links[link_id][0],
                campaign_id=links[link_id][1],
                organization_id="org_1",
                at=at,
                visitor_hash=f"v{rng.randrange(40)}",
                user_agent="Mozilla/5.0",
                referrer="",
                is_bot=rng.random() < 0.1,
            )
        )
    clicks.sort(key=lambda c: c.at)
    batches = [clicks[:250], clicks[250:400], clicks[300:600]]  # the last repeats 100 clicks
    results = []
    for batch in batches:
        with db.unit_of_work() as session:
            results.append(ingest_clicks(session, batch))
    # The verdicts, worked out on their own: the first click of a visit counts.
    seen: set[str] = set()
    expected: dict[str, tuple[bool, bool]] = {}  # id -> (bot, duplicate)
    for click in clicks:
        key = _visit(click.link_id, click.visitor_hash, click.at)
        expected[click.id] = (click.is_bot, not click.is_bot and key in seen)
        if not click.is_bot:
            seen.add(key)
    assert sum(r.clicks for r in results) == 600
    assert sum(r.valid for r in results) == len(seen)
    assert sum(r.bots for r in results) == sum(bot for bot, _ in expected.values())
    assert results[2].clicks == 200
    with db.unit_of_work() as session:
        stored = session.execute(
            select(Click.id, Click.link_id, Click.at, Click.is_bot, Click.is_duplicate)
        ).all()
        assert {row.id: (row.is_bot, row.is_duplicate) for row in stored} == expected
        assert {c.id: c.at for c in clicks} == {row.id: row.at for row in stored}
        assert set(session.scalars(select(ClickVisit.key))) == seen
        counts: Counter[tuple[str, datetime]] = Counter()
        valid: Counter[tuple[str, datetime]] = Counter()
        for row in stored:
            hour = (row.link_id, row.at.replace(minute=0, second=0, microsecond=0))
            counts[hour] += 1
            valid[hour] += not row.is_bot and not row.is_duplicate
        rollups = session.scalars(select(ClickRollup)).all()
        assert {(r.link_id, r.hour): r.clicks for r in rollups} == counts
        assert {(r.link_id, r.hour): r.valid_clicks for r in rollups} == +valid
        for r in rollups:
            assert r.clicks == r.valid_clicks + r.bot_clicks + r.duplicate_clicks
            assert (r.order_id, r.campaign_id) == links[r.link_id]


def test_concurrent_batches_claim_each_visit_once(db) -> None:  # type: ignore[no-untyped-def]
    """Two writers with overlapping visits: the second waits on the first's claims and finds
    them taken (a check before the insert, outside the claim, would count both)."""
    base = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    first = [_click(n, base, visitor) for n, visitor in enumerate("abc")]
    second = [_click(10 + n, base + timedelta(minutes=5), v) for n, v in enumerate("bcd")]
    results: dict[str, Any] = {}

    def write_second() -> None:
        with db.unit_of_work() as session:
            results["second"] = ingest_clicks(session, second)

    session = db.session()
    try:
        results["first"] = ingest_clicks(session, first)
        writer = threading.Thread(target=write_second)
        writer.start()
        time.sleep(0.5)  # the second batch is now waiting on the first's claims (or lock)
        assert "second" not in results
        session.commit()
    finally:
        session.close()
    writer.join(timeout=30)
    assert (results["first"].valid, results["first"].duplicates) == (3, 0)
    assert (results["second"].valid, results["second"].duplicates) == (1, 2)
    with db.unit_of_work() as session:
        [rollup] = session.scalars(select(ClickRollup)).all()
        assert (rollup.clicks, rollup.valid_clicks, rollup.duplicate_clicks) == (6, 4, 2)
