"""The discovery index against a brute-force reading of the same catalog: every filter, sort,
page and facet must agree with the obvious Python."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pappus.creators import search
from pappus.creators.search import (
    AGE_BANDS,
    TIERS,
    CatalogRow,
    DiscoveryIndex,
    DiscoveryQuery,
    tier_code,
)
from pappus.creators.taxonomy import CATEGORIES, FORMATS
from pappus.errors import InvalidInput

NOW = datetime(2026, 11, 30, tzinfo=UTC)
REGIONS = ("CN-SH", "CN-BJ", "CN-GD", "US", "SG")
WORDS = ("防晒", "穿搭", "探店", "sunscreen", "outfits", "cafe", "猫咪", "running")


def make_rows(seed: int, n: int) -> list[CatalogRow]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        followers = rng.choice([500, 2_000, 9_999, 10_000, 30_000, 80_000, 600_000]) + rng.randint(
            0, 50
        )
        female = rng.random()
        rows.append(
            CatalogRow(
                id=f"cr_{i:06d}",
                display_name=f"Creator {rng.choice(['Lin', 'Amy', 'Wang', 'Zoe'])} {i}",
                handle=f"handle{i}",
                bio=" ".join(rng.sample(WORDS, 2)),
                categories=rng.sample(CATEGORIES, rng.randint(0, 2)),
                regions=rng.sample(REGIONS, rng.randint(0, 2)),
                languages=rng.sample(["zh", "en"], rng.randint(1, 2)),
                topics=[rng.choice(WORDS)],
                primary_platform=rng.choice(["sandbox", None]),
                followers=followers,
                engagement_rate_bp=rng.choice([None, rng.randint(50, 900)]),
                audience_quality_score=rng.choice([None, rng.randint(20, 100)]),
                rate_card=[
                    {"format": f, "amount": rng.randint(1_000, 900_000), "currency": "CNY"}
                    for f in rng.sample(FORMATS, rng.randint(0, 2))
                ],
                audience={
                    "gender": {"female": female, "male": 1 - female},
                    "age_bands": {b: rng.random() / 2 for b in AGE_BANDS},
                    "top_regions": {r: rng.random() / 2 for r in rng.sample(REGIONS, 2)},
                }
                if rng.random() < 0.8
                else {},
                last_active_at=NOW - timedelta(days=rng.randint(0, 200)),
                vetting_status=rng.choice(["unvetted", "approved", "flagged"]),
                available=rng.random() < 0.8,
                updated_at=NOW,
            )
        )
    return rows


ROWS = make_rows(3, 600)
INDEX = DiscoveryIndex()
INDEX.load(ROWS)


def price(row: CatalogRow, fmt: str) -> int | None:
    amounts = [e["amount"] for e in row.rate_card if e["format"] == fmt]
    return min(amounts) if amounts else None


def matches(row: CatalogRow, q: DiscoveryQuery) -> bool:
    audience: dict[str, Any] = row.audience
    female = audience.get("gender", {}).get("female")
    if row.followers < 1_000:
        return False
    if q.platform is not None and row.primary_platform != q.platform:
        return False
    if q.tiers and TIERS[tier_code(row.followers)] not in q.tiers:
        return False
    if q.min_followers is not None and row.followers < q.min_followers:
        return False
    if q.max_followers is not None and row.followers > q.max_followers:
        return False
    er = row.engagement_rate_bp
    if q.min_engagement_bp is not None and (er is None or er < q.min_engagement_bp):
        return False
    if q.max_engagement_bp is not None and (er is None or er > q.max_engagement_bp):
        return False
    if q.categories and not set(q.categories) & set(row.categories):
        return False
    if q.regions and not set(q.regions) & set(row.regions):
        return False
    if q.languages and not set(q.languages) & set(row.languages):
        return False
    if q.audience_female_min is not None and (female is None or female < q.audience_female_min):
        return False
    if q.audience_age is not None and q.audience_age_min is not None:
        share = audience.get("age_bands", {}).get(q.audience_age)
        if share is None or share < q.audience_age_min:
            return False
    if q.audience_region is not None:
        share = audience.get("top_regions", {}).get(q.audience_region)
        if share is None or share < (q.audience_region_min or 0):
            return False
    if q.price_format is not None and (q.min_price is not None or q.max_price is not None):
        amount = price(row, q.price_format)
        if amount is None or amount < (q.min_price or 0):
            return False
        if q.max_price is not None and amount > q.max_price:
            return False
    if q.min_quality is not None and (
        row.audience_quality_score is None or row.audience_quality_score < q.min_quality
    ):
        return False
    if q.vetting_statuses and row.vetting_status not in q.vetting_statuses:
        return False
    if q.active_within_days is not None and (
        row.last_active_at is None or (NOW - row.last_active_at).days > q.active_within_days
    ):
        return False
    if q.available is not None and row.available != q.available:
        return False
    return row.id not in q.exclude_ids


def all_pages(q: DiscoveryQuery) -> tuple[list[str], int]:
    ids: list[str] = []
    cursor = None
    total = -1
    for _ in range(1000):
        result = INDEX.search(DiscoveryQuery(**{**q.__dict__, "cursor": cursor}), NOW)
        total = result.total
        ids += result.ids
        cursor = result.next_cursor
        if cursor is None:
            break
    return ids, total


queries = st.builds(
    DiscoveryQuery,
    platform=st.sampled_from([None, "sandbox", "myspace"]),
    tiers=st.lists(st.sampled_from(TIERS[1:]), max_size=2).map(tuple),
    min_followers=st.sampled_from([None, 5_000, 10_000]),
    max_followers=st.sampled_from([None, 100_000]),
    min_engagement_bp=st.sampled_from([None, 300]),
    categories=st.lists(st.sampled_from(CATEGORIES), max_size=2).map(tuple),
    regions=st.lists(st.sampled_from([*REGIONS, "XX"]), max_size=2).map(tuple),
    languages=st.lists(st.sampled_from(["zh", "en"]), max_size=1).map(tuple),
    audience_female_min=st.sampled_from([None, 0.6]),
    audience_region=st.sampled_from([None, "CN-SH", "XX"]),
    audience_region_min=st.sampled_from([None, 0.2]),
    price_format=st.sampled_from([None, "image_post"]),
    max_price=st.sampled_from([None, 400_000]),
    min_quality=st.sampled_from([None, 60]),
    vetting_statuses=st.lists(st.sampled_from(["approved", "flagged"]), max_size=1).map(tuple),
    active_within_days=st.sampled_from([None, 30]),
    available=st.sampled_from([None, True]),
    sort=st.sampled_from(["followers", "engagement", "quality", "price", "cpe"]),
    limit=st.sampled_from([1, 7, 50]),
)


@settings(max_examples=150, deadline=None)
@given(q=queries)
def test_every_page_of_every_filter_and_sort_agrees_with_brute_force(q: DiscoveryQuery) -> None:
    if q.audience_region is None:
        q = DiscoveryQuery(**{**q.__dict__, "audience_region_min": None})
    expected = [r for r in ROWS if matches(r, q)]
    ids, total = all_pages(q)
    assert total == len(expected)
    assert sorted(ids) == sorted(r.id for r in expected)  # each exactly once over the pages
    assert len(ids) == len(set(ids))
    by_id = {r.id: r for r in ROWS}

    def value(row: CatalogRow) -> float:
        if q.sort == "followers":
            return -row.followers
        if q.sort == "engagement":
            return -(row.engagement_rate_bp if row.engagement_rate_bp is not None else -1)
        if q.sort == "quality":
            return -(row.audience_quality_score if row.audience_quality_score is not None else -1)
        amount = price(row, q.price_format or "image_post")
        if amount is None:
            return float("inf")
        if q.sort == "price":
            return amount
        engagements = row.followers * (row.engagement_rate_bp or 0) / 10_000
        return amount / engagements * 1000 if engagements > 0 else float("inf")

    values = [value(by_id[i]) for i in ids]
    # in order (cpe is compared at the index's integer precision)
    assert all(a <= b + 1 for a, b in itertools.pairwise(values))


@pytest.mark.parametrize("threshold", [0, 10**9], ids=["precomputed order", "sorted matches"])
def test_both_ways_of_ordering_a_broad_match_agree(
    threshold: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "STATIC_ORDER_ABOVE", threshold)
    rng = random.Random(threshold)
    for _ in range(60):
        q = DiscoveryQuery(
            categories=tuple(rng.sample(CATEGORIES, rng.randint(0, 2))),
            min_followers=rng.choice([None, 10_000]),
            price_format=rng.choice([None, "story", "image_post"]),
            sort=rng.choice(["followers", "engagement", "quality", "price", "cpe"]),
            limit=rng.choice([1, 5, 40]),
        )
        expected = sorted(r.id for r in ROWS if matches(r, q))
        ids, total = all_pages(q)
        assert total == len(expected) and sorted(ids) == expected and len(set(ids)) == len(ids)
        first = INDEX.search(q, NOW).ids
        monkeypatch.setattr(search, "STATIC_ORDER_ABOVE", 10**9 - threshold)
        assert INDEX.search(q, NOW).ids == first  # the same page either way
        monkeypatch.setattr(search, "STATIC_ORDER_ABOVE", threshold)


def test_facets_count_every_match_not_only_the_page() -> None:
    q = DiscoveryQuery(categories=("beauty", "food"), limit=3)
    result = INDEX.search(q, NOW)
    expected = [r for r in ROWS if matches(r, q)]
    assert result.total == len(expected) and len(result.ids) == 3
    assert result.facets is not None
    for tier in TIERS[1:]:
        assert result.facets.tier[tier] == sum(
            TIERS[tier_code(r.followers)] == tier for r in expected
        )
    for category in CATEGORIES:
        assert result.facets.category.get(category, 0) == sum(
            category in r.categories for r in expected
        )
    for region in REGIONS:
        assert result.facets.region.get(region, 0) == sum(region in r.regions for r in expected)


def test_text_matches_chinese_and_english_words_and_ranks_names_first() -> None:
    ids, total = all_pages(DiscoveryQuery(text="防晒", limit=100))
    expected = {
        r.id for r in ROWS if r.followers >= 1_000 and ("防晒" in r.bio or "防晒" in r.topics)
    }
    assert sorted(ids) == sorted(expected) and total == len(expected)
    both = INDEX.search(
        DiscoveryQuery(text="Sunscreen \uff23\uff21\uff26\uff25", limit=100), NOW
    )  # full-width
    expected = {
        r.id
        for r in ROWS
        if r.followers >= 1_000
        and "sunscreen" in f"{r.bio} {r.topics}"
        and "cafe" in f"{r.bio} {r.topics}"
    }
    assert set(both.ids) == expected
    # "first time" words inside other words do not match: 'cafe' is not 'cafeteria'
    assert INDEX.search(DiscoveryQuery(text="cafeteria"), NOW).total == 0
    # a name match outranks a bio match
    named = INDEX.search(DiscoveryQuery(text="amy"), NOW)
    assert named.ids and all(
        "Amy" in next(r for r in ROWS if r.id == i).display_name for i in named.ids
    )


def test_changed_creators_are_found_by_their_new_words_only() -> None:
    index = DiscoveryIndex()
    rows = make_rows(9, 50)
    index.load(rows)
    target = next(r for r in rows if r.followers >= 1_000)
    changed = CatalogRow(**{**target.__dict__, "bio": "宠物 grooming", "topics": []})
    index.apply([changed])
    assert target.id in index.search(DiscoveryQuery(text="grooming"), NOW).ids
    old_word = target.bio.split()[0]
    assert target.id not in index.search(DiscoveryQuery(text=old_word, limit=100), NOW).ids
    new = CatalogRow(**{**changed.__dict__, "id": "cr_new", "followers": 50_000})
    index.apply([new])
    assert "cr_new" in index.search(DiscoveryQuery(text="grooming"), NOW).ids
    # reading the same rows again (a refresh's overlap window) changes nothing
    orders = index.search(DiscoveryQuery(sort="followers"), NOW)
    assert index.apply([changed, new]) == 0
    assert index.search(DiscoveryQuery(sort="followers"), NOW).ids == orders.ids


def test_a_cursor_from_another_sort_or_made_up_is_refused() -> None:
    first = INDEX.search(DiscoveryQuery(sort="followers", limit=5), NOW)
    assert first.next_cursor
    with pytest.raises(InvalidInput):
        INDEX.search(DiscoveryQuery(sort="engagement", cursor=first.next_cursor), NOW)
    with pytest.raises(InvalidInput):
        INDEX.search(DiscoveryQuery(cursor="bm9wZQ"), NOW)


def test_similar_creators_share_a_category_and_a_neighbouring_tier() -> None:
    target = next(r for r in ROWS if r.followers >= 10_000 and r.categories)
    similar = INDEX.similar_to(target.id, 10)
    assert similar and target.id not in similar
    by_id = {r.id: r for r in ROWS}
    for creator_id in similar:
        other = by_id[creator_id]
        assert set(other.categories) & set(target.categories)
        assert abs(tier_code(other.followers) - tier_code(target.followers)) <= 1
    assert INDEX.similar_to("cr_missing", 5) == []
