"""Shortlists and saved searches: a brand's lists of creators and kept filters."""

from __future__ import annotations

from typing import Any

import pytest

from pappus.creators import search
from tests.fixtures.builders import World, ok

API = "/api/v1"


@pytest.fixture(autouse=True)
def _refresh_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "REFRESH_EVERY_SECONDS", 0.0)


def test_a_brand_keeps_creators_on_a_shortlist_and_searches_within_it(world: World) -> None:
    brand = world.brand()
    a = world.creator(followers=12_000, categories=["beauty"])
    b = world.creator(followers=40_000, categories=["food"])
    world.creator(followers=90_000, categories=["beauty"])
    shortlist = ok(
        world.client.post(
            f"{API}/shortlists", json={"name": "Autumn picks"}, headers=brand.headers
        ),
        201,
    )
    assert shortlist["creators"] == 0
    for creator, note in ((a, "great skin content"), (b, "")):
        ok(
            world.client.put(
                f"{API}/shortlists/{shortlist['id']}/creators/{creator.creator_id}",
                json={"note": note},
                headers=brand.headers,
            )
        )
    # adding again only changes the note
    ok(
        world.client.put(
            f"{API}/shortlists/{shortlist['id']}/creators/{a.creator_id}",
            json={"note": "first choice"},
            headers=brand.headers,
        )
    )
    listed = ok(
        world.client.get(f"{API}/shortlists/{shortlist['id']}/creators", headers=brand.headers)
    )
    assert [(e["creator"]["id"], e["note"]) for e in listed["items"]] == [
        (a.creator_id, "first choice"),
        (b.creator_id, ""),
    ]
    assert (
        ok(world.client.get(f"{API}/shortlists/{shortlist['id']}", headers=brand.headers))[
            "creators"
        ]
        == 2
    )
    within = ok(
        world.client.get(
            f"{API}/creators",
            params={"shortlist_id": shortlist["id"], "category": "beauty"},
            headers=brand.headers,
        )
    )
    assert [c["id"] for c in within["items"]] == [a.creator_id]
    # removing, renaming, deleting
    assert (
        world.client.delete(
            f"{API}/shortlists/{shortlist['id']}/creators/{b.creator_id}", headers=brand.headers
        ).status_code
        == 204
    )
    again = world.client.delete(
        f"{API}/shortlists/{shortlist['id']}/creators/{b.creator_id}", headers=brand.headers
    )
    assert again.status_code == 404
    renamed = ok(
        world.client.patch(
            f"{API}/shortlists/{shortlist['id']}", json={"name": "Final"}, headers=brand.headers
        )
    )
    assert renamed["name"] == "Final" and renamed["creators"] == 1
    mine = ok(world.client.get(f"{API}/shortlists", headers=brand.headers))
    assert [s["id"] for s in mine["items"]] == [shortlist["id"]]
    assert (
        world.client.delete(
            f"{API}/shortlists/{shortlist['id']}", headers=brand.headers
        ).status_code
        == 204
    )
    assert ok(world.client.get(f"{API}/shortlists", headers=brand.headers))["items"] == []


def test_shortlists_stay_within_their_organization(world: World) -> None:
    brand, other = world.brand(), world.brand()
    creator = world.creator()
    shortlist = ok(
        world.client.post(f"{API}/shortlists", json={"name": "Mine"}, headers=brand.headers), 201
    )
    url = f"{API}/shortlists/{shortlist['id']}"
    assert world.client.get(url, headers=other.headers).status_code == 404
    assert (
        world.client.put(f"{url}/creators/{creator.creator_id}", headers=other.headers).status_code
        == 404
    )
    stranger_search = world.client.get(
        f"{API}/creators", params={"shortlist_id": shortlist["id"]}, headers=other.headers
    )
    assert stranger_search.status_code == 404
    assert ok(world.client.get(f"{API}/shortlists", headers=other.headers))["items"] == []
    missing = world.client.put(f"{url}/creators/cr_missing", headers=brand.headers)
    assert missing.status_code == 404
    creator_asks = world.client.get(f"{API}/shortlists", headers=creator.headers)
    assert creator_asks.status_code == 403 and creator_asks.json()["code"] == "brand_only"


def test_a_saved_search_runs_again_on_todays_catalog(world: World) -> None:
    brand = world.brand()
    first = world.creator(followers=15_000, categories=["pets"], bio="猫咪日常")
    filters: dict[str, Any] = {"q": "猫咪", "category": ["pets"], "sort": "followers"}
    saved = ok(
        world.client.post(
            f"{API}/saved-searches",
            json={"name": "Cat people", "filters": filters},
            headers=brand.headers,
        ),
        201,
    )
    assert saved["filters"] == filters
    results = ok(
        world.client.get(f"{API}/saved-searches/{saved['id']}/results", headers=brand.headers)
    )
    assert [c["id"] for c in results["items"]] == [first.creator_id]
    later = world.creator(followers=50_000, categories=["pets"], bio="猫咪 and more")
    results = ok(
        world.client.get(f"{API}/saved-searches/{saved['id']}/results", headers=brand.headers)
    )
    assert [c["id"] for c in results["items"]] == [later.creator_id, first.creator_id]
    listed = ok(world.client.get(f"{API}/saved-searches", headers=brand.headers))
    assert [s["name"] for s in listed["items"]] == ["Cat people"]
    assert (
        world.client.delete(
            f"{API}/saved-searches/{saved['id']}", headers=brand.headers
        ).status_code
        == 204
    )
    assert (
        world.client.get(f"{API}/saved-searches/{saved['id']}", headers=brand.headers).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"min_price": 100}, "price_format"),
        ({"tier": ["giant"]}, "filters.tier.0"),
        ({"limit": 5}, "filters.limit"),  # not a filter: unknown keys are refused
        ({"audience_female_min": 2}, "filters.audience_female_min"),
    ],
)
def test_a_saved_search_with_meaningless_filters_is_refused(
    world: World, filters: dict[str, Any], field: str
) -> None:
    brand = world.brand()
    response = world.client.post(
        f"{API}/saved-searches", json={"name": "x", "filters": filters}, headers=brand.headers
    )
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}
    assert ok(world.client.get(f"{API}/saved-searches", headers=brand.headers))["items"] == []
