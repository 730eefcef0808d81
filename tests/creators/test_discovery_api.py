"""Discovery through the API: filters, text, sorts, keyset pages, facets, a brand's own
history, similar creators, and an index that follows profile changes."""

from __future__ import annotations

from typing import Any

import pytest

from pappus.creators import search
from tests.fixtures.builders import Who, World, ok

API = "/api/v1"


@pytest.fixture(autouse=True)
def _refresh_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "REFRESH_EVERY_SECONDS", 0.0)


def find(world: World, who: Who, **params: Any) -> dict[str, Any]:
    return ok(world.client.get(f"{API}/creators", params=params, headers=who.headers))


def ids(page: dict[str, Any]) -> list[str]:
    return [c["id"] for c in page["items"]]


def test_filters_text_sorts_and_facets(world: World) -> None:
    brand = world.brand()
    small = world.creator(followers=3_000, categories=["food"], bio="家常菜 and 探店 weekends")
    mid = world.creator(
        followers=80_000,
        categories=["skincare", "beauty"],
        bio="防晒 reviews for sensitive skin",
        languages=["zh", "en"],
        regions=["CN-31"],
        rate_card=[{"format": "image_post", "amount": 400_000, "currency": "CNY"}],
    )
    koc = world.creator(
        followers=20_000,
        categories=["beauty"],
        regions=["CN-44"],
        rate_card=[{"format": "image_post", "amount": 90_000, "currency": "CNY"}],
    )
    world.creator(followers=400, categories=["beauty"])  # under 1k: never listed
    everyone = find(world, brand)
    assert ids(everyone) == [mid.creator_id, koc.creator_id, small.creator_id]  # followers
    assert everyone["total"] == 3
    assert everyone["facets"]["tier"] == {"nano": 1, "koc": 1, "mid": 1, "head": 0}
    assert everyone["facets"]["category"] == {"beauty": 2, "skincare": 1, "food": 1}
    assert ids(find(world, brand, q="防晒")) == [mid.creator_id]
    assert ids(find(world, brand, q="探店")) == [small.creator_id]
    assert ids(find(world, brand, q="SENSITIVE skin")) == [mid.creator_id]
    assert ids(find(world, brand, category=["food", "skincare"])) == [
        mid.creator_id,
        small.creator_id,
    ]
    assert ids(find(world, brand, tier=["koc", "nano"])) == [koc.creator_id, small.creator_id]
    assert ids(find(world, brand, region="CN-44")) == [koc.creator_id]
    assert ids(find(world, brand, language="en")) == [mid.creator_id]
    cheap = find(world, brand, price_format="image_post", max_price=100_000)
    assert ids(cheap) == [koc.creator_id]
    by_price = find(world, brand, sort="price", price_format="image_post")
    assert ids(by_price) == [koc.creator_id, mid.creator_id, small.creator_id]  # no price: last


def test_keyset_pages_cover_every_match_once(world: World) -> None:
    brand = world.brand()
    made = {world.creator(followers=1_000 + 500 * n).creator_id for n in range(7)}
    seen: list[str] = []
    cursor = None
    while True:
        page = find(world, brand, limit=3, **({"cursor": cursor} if cursor else {}))
        seen += ids(page)
        assert page["total"] == 7
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and set(seen) == made
    bad = world.client.get(f"{API}/creators", params={"cursor": "bm9wZQ"}, headers=brand.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.cursor"


def test_changes_to_a_profile_show_in_the_next_search(world: World) -> None:
    brand = world.brand()
    creator = world.creator(followers=5_000, categories=["pets"], bio="cats")
    assert ids(find(world, brand, q="cats")) == [creator.creator_id]
    ok(
        world.client.patch(
            f"{API}/creators/me",
            json={"bio": "dogs and long walks", "followers": 60_000},
            headers=creator.headers,
        )
    )
    assert ids(find(world, brand, q="cats")) == []
    assert ids(find(world, brand, q="dogs", tier="mid")) == [creator.creator_id]
    late = world.creator(followers=7_000, bio="cats again")
    assert ids(find(world, brand, q="cats")) == [late.creator_id]


def test_a_grown_text_delta_is_merged_by_a_background_rebuild(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from pappus.creators import service

    monkeypatch.setattr(search, "COMPACT_AT_LEAST", 2)
    monkeypatch.setattr(search, "COMPACT_AT_SHARE", 0.0)
    brand = world.brand()
    creators = [world.creator(followers=5_000 + i, bio="cats") for i in range(4)]
    assert len(find(world, brand, q="cats")["items"]) == 4  # built: all in the bulk postings
    before = set(service._indexes.values())
    for who in creators[:3]:
        ok(world.client.patch(f"{API}/creators/me", json={"bio": "dogs"}, headers=who.headers))
    # The refresh puts three creators in the delta, over the limit: a rebuild starts, and
    # this search is still answered, right, by the old index.
    assert sorted(ids(find(world, brand, q="dogs"))) == sorted(c.creator_id for c in creators[:3])
    deadline = time.monotonic() + 30
    while set(service._indexes.values()) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    fresh = set(service._indexes.values()) - before
    assert len(fresh) == 1, "the rebuilt index was swapped in"
    index = fresh.pop()
    assert index.built and not index.delta_tokens and not index.needs_compaction()
    assert ids(find(world, brand, q="cats")) == [creators[3].creator_id]
    assert sorted(ids(find(world, brand, q="dogs"))) == sorted(c.creator_id for c in creators[:3])


def test_not_worked_with_leaves_out_the_brands_own_creators(world: World) -> None:
    order_id, brand, worked = world.to_state("awaiting_draft")
    other = world.creator(followers=30_000)
    assert worked.creator_id in ids(find(world, brand))
    fresh = ids(find(world, brand, not_worked_with=True))
    assert worked.creator_id not in fresh and other.creator_id in fresh
    stranger = world.brand()
    assert worked.creator_id in ids(find(world, stranger, not_worked_with=True))


def test_similar_creators(world: World) -> None:
    brand = world.brand()
    target = world.creator(followers=20_000, categories=["beauty"])
    alike = world.creator(followers=25_000, categories=["beauty", "skincare"])
    world.creator(followers=25_000, categories=["finance"])
    world.creator(followers=2_000_000, categories=["beauty"])  # two tiers away
    page = ok(
        world.client.get(f"{API}/creators/{target.creator_id}/similar", headers=brand.headers)
    )
    assert ids(page) == [alike.creator_id]
    missing = world.client.get(f"{API}/creators/cr_missing/similar", headers=brand.headers)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_price": 10}, "price_format"),
        ({"audience_age": "18-24"}, "audience_age_min"),
        ({"audience_female_min": 1.5}, "query.audience_female_min"),
        ({"sort": "random"}, "query.sort"),
        ({"category": "astrology"}, "query.category.0"),
        ({"vetting_status": "great"}, "query.vetting_status.0"),
        ({"limit": 101}, "query.limit"),
    ],
)
def test_bad_searches_are_422s_naming_the_parameter(
    world: World, params: dict[str, Any], field: str
) -> None:
    brand = world.brand()
    response = world.client.get(f"{API}/creators", params=params, headers=brand.headers)
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}


def test_a_deleted_creator_leaves_the_results_at_once(world: World) -> None:
    from sqlalchemy import text

    brand = world.brand()
    keep = world.creator(followers=30_000)
    gone = world.creator(followers=40_000)
    assert ids(find(world, brand)) == [gone.creator_id, keep.creator_id]
    # a deletion the index's refresh cannot see (it reads changed rows, not missing ones)
    with world.db.unit_of_work() as session:
        session.execute(
            text("DELETE FROM creator_profiles WHERE id = :id"), {"id": gone.creator_id}
        )
    page = find(world, brand)
    assert ids(page) == [keep.creator_id]
    assert page["total"] == 1 and page["facets"]["tier"]["koc"] == 1
    assert ids(find(world, brand)) == [keep.creator_id]


def test_the_index_can_be_built_when_the_app_starts(db: Any, settings: Any) -> None:
    import time

    from fastapi.testclient import TestClient

    from pappus.app import create_app

    preloading = settings.model_copy(update={"discovery_preload": True})
    app = create_app(preloading, database=db, migrate_on_start=False, run_jobs=False)
    with TestClient(app) as client:
        deadline = time.monotonic() + 30
        while client.get("/healthz").json()["discovery"] != "ready":
            assert time.monotonic() < deadline, "the index was not built at start"
            time.sleep(0.05)
