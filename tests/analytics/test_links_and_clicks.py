"""Tracking links: UTM, the redirect, bot and duplicate filtering, rollups, pause."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from pappus.analytics.models import Click, ClickRollup
from pappus.kit.clock import clock
from tests.fixtures.builders import ok

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15"


def _link(world, order_id, brand, destination="https://shop.example/p/1?color=red"):  # type: ignore[no-untyped-def]
    return ok(
        world.client.post(
            f"/api/v1/orders/{order_id}/links",
            json={"destination": destination, "label": "bio"},
            headers=brand.headers,
        ),
        201,
    )


def _click(client, code, agent=BROWSER, **headers):  # type: ignore[no-untyped-def]
    return client.get(
        f"/r/{code}", headers={"user-agent": agent, **headers}, follow_redirects=False
    )


def test_link_adds_utm_and_keeps_the_brands_parameters(world) -> None:  # type: ignore[no-untyped-def]
    order_id, brand, creator = world.order()
    link = _link(world, order_id, brand, "https://shop.example/p/1?color=red&utm_source=mine")
    query = parse_qs(urlsplit(link["target_url"]).query)
    assert query["color"] == ["red"]
    assert query["utm_source"] == ["mine"]
    assert query["utm_medium"] == ["influencer"]
    assert query["utm_content"] == [order_id]
    assert link["short_path"] == f"/r/{link['code']}"
    again = world.client.post(
        f"/api/v1/orders/{order_id}/links",
        json={"destination": "https://shop.example/p/1?color=red&utm_source=mine"},
        headers=brand.headers,
    )
    assert again.status_code == 200 and again.json()["id"] == link["id"]
    # The creator sees the links; a stranger does not; the creator cannot make one.
    listed = ok(world.client.get(f"/api/v1/orders/{order_id}/links", headers=creator.headers))
    assert [item["id"] for item in listed["items"]] == [link["id"]]
    stranger = world.brand()
    assert (
        world.client.get(f"/api/v1/orders/{order_id}/links", headers=stranger.headers).status_code
        == 404
    )
    refused = world.client.post(
        f"/api/v1/orders/{order_id}/links",
        json={"destination": "https://shop.example/x"},
        headers=creator.headers,
    )
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


def test_bad_destinations_are_refused(world) -> None:  # type: ignore[no-untyped-def]
    order_id, brand, _ = world.order()
    for destination, status in [
        ("javascript:alert(1)", 422),
        ("ftp://shop.example/file", 422),
        ("https://user:pw@shop.example/", 422),
        ("/relative/path", 422),
    ]:
        response = world.client.post(
            f"/api/v1/orders/{order_id}/links",
            json={"destination": destination},
            headers=brand.headers,
        )
        assert response.status_code == status, destination
        assert response.headers["content-type"] == "application/problem+json"


def test_redirect_records_clicks_and_filters_bots_and_repeats(world, app) -> None:  # type: ignore[no-untyped-def]
    order_id, brand, _ = world.order()
    link = _link(world, order_id, brand)
    first = _click(world.client, link["code"])
    assert first.status_code == 302
    location = first.headers["location"]
    click_id = parse_qs(urlsplit(location).query)["pappus_click"][0]
    assert location.startswith("https://shop.example/p/1?color=red&utm_source=pappus")
    assert _click(world.client, link["code"]).status_code == 302  # same visitor: a repeat
    assert _click(world.client, link["code"], agent="Googlebot/2.1").status_code == 302
    assert _click(world.client, link["code"], agent="").status_code == 302
    assert _click(world.client, link["code"], **{"sec-purpose": "prefetch"}).status_code == 302
    head = world.client.head(
        f"/r/{link['code']}", headers={"user-agent": BROWSER}, follow_redirects=False
    )
    assert head.status_code == 302
    other_browser = _click(world.client, link["code"], agent=BROWSER + " Safari")
    assert other_browser.status_code == 302
    # Half an hour on, the first visitor's click is a new visit.
    clock.advance(timedelta(minutes=31))
    assert _click(world.client, link["code"]).status_code == 302
    app.state.clicks.flush()
    with world.db.unit_of_work() as session:
        clicks = session.scalars(select(Click).order_by(Click.at, Click.id)).all()
        assert len(clicks) == 8
        assert clicks[0].id == click_id
        assert sum(c.is_bot for c in clicks) == 4
        assert sum(c.is_duplicate for c in clicks) == 1
        rollup = session.execute(
            select(
                func.sum(ClickRollup.clicks),
                func.sum(ClickRollup.valid_clicks),
                func.sum(ClickRollup.bot_clicks),
                func.sum(ClickRollup.duplicate_clicks),
            )
        ).one()
        assert tuple(rollup) == (8, 3, 4, 1)
    listed = ok(world.client.get(f"/api/v1/orders/{order_id}/links", headers=brand.headers))
    assert (listed["items"][0]["clicks"], listed["items"][0]["valid_clicks"]) == (8, 3)


def test_unknown_malformed_and_paused_links(world, app) -> None:  # type: ignore[no-untyped-def]
    order_id, brand, _ = world.order()
    link = _link(world, order_id, brand)
    for path in ["/r/nope1234", "/r/../../etc", "/r/", "/r/a%20b"]:
        response = world.client.get(path, follow_redirects=False)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    assert world.client.post(f"/r/{link['code']}").status_code == 405
    paused = ok(world.client.post(f"/api/v1/links/{link['id']}/pause", headers=brand.headers))
    assert paused["active"] is False
    # Not yet in this process's cache, so the pause shows at once (a cached link takes up to
    # a minute; see the route's description).
    gone = _click(world.client, link["code"])
    assert gone.status_code == 410 and gone.json()["code"] == "link_inactive"
    app.state.clicks.flush()
    with world.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Click)) == 0
    resumed = ok(world.client.post(f"/api/v1/links/{link['id']}/resume", headers=brand.headers))
    assert resumed["active"] is True


def test_no_links_on_a_cancelled_order(world) -> None:  # type: ignore[no-untyped-def]
    order_id, brand, _ = world.order()
    ok(
        world.client.post(
            f"/api/v1/orders/{order_id}/cancel", json={"reason": "x"}, headers=brand.headers
        )
    )
    response = world.client.post(
        f"/api/v1/orders/{order_id}/links",
        json={"destination": "https://shop.example/p/1"},
        headers=brand.headers,
    )
    assert response.status_code == 409
    assert response.json()["code"] == "order_closed"


def test_the_click_id_goes_before_the_fragment(world, app) -> None:  # type: ignore[no-untyped-def]
    order_id, brand, _ = world.order()
    link = _link(world, order_id, brand, "https://shop.example/p/1#reviews")
    location = _click(world.client, link["code"]).headers["location"]
    parts = urlsplit(location)
    assert parts.fragment == "reviews"
    assert parse_qs(parts.query)["pappus_click"][0].startswith("clk_")
    assert parse_qs(parts.query)["utm_medium"] == ["influencer"]
