"""The conversion webhook: signatures, replays, clock skew, attribution, refunds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pappus.analytics.conversions import canonical_json, sign
from pappus.kit.clock import clock, now
from tests.fixtures.builders import ok

BROWSER = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120 Mobile"


def _store(world, brand, window_days=7):  # type: ignore[no-untyped-def]
    return ok(
        world.client.post(
            "/api/v1/stores",
            json={
                "name": "Tmall flagship",
                "currency": "CNY",
                "attribution_window_days": window_days,
            },
            headers=brand.headers,
        ),
        201,
    )


def _send(world, store, payload: dict[str, Any], *, secret=None, timestamp=None, raw=None):  # type: ignore[no-untyped-def]
    body = raw if raw is not None else canonical_json(payload)
    stamp = int(now().timestamp()) if timestamp is None else timestamp
    signature = sign(secret or store["signing_secret"], stamp, body)
    return world.client.post(
        "/api/v1/conversions",
        content=body,
        headers={
            "Pappus-Store": store["id"],
            "Pappus-Signature": signature,
            "content-type": "application/json",
        },
    )


def _paid(order_id: str, amount: int = 19_900, **extra: Any) -> dict[str, Any]:
    return {
        "type": "order.paid",
        "order_id": order_id,
        "occurred_at": now().isoformat(),
        "amount": amount,
        "currency": "CNY",
        **extra,
    }


def _coupon(world, order_id, brand, code=None):  # type: ignore[no-untyped-def]
    body = {"code": code} if code else {}
    return ok(
        world.client.post(f"/api/v1/orders/{order_id}/coupons", json=body, headers=brand.headers),
        201,
    )


def _clicked(world, app, order_id, brand, agent=BROWSER):  # type: ignore[no-untyped-def]
    link = world.client.post(
        f"/api/v1/orders/{order_id}/links",
        json={"destination": "https://shop.example/item/9"},
        headers=brand.headers,
    ).json()
    response = world.client.get(
        f"/r/{link['code']}", headers={"user-agent": agent}, follow_redirects=False
    )
    app.state.clicks.flush()
    return parse_qs(urlsplit(response.headers["location"]).query)["pappus_click"][0]


@pytest.fixture
def two_orders(world):  # type: ignore[no-untyped-def]
    brand = world.brand()
    first, _, _ = world.order(brand=brand)
    second, _, _ = world.order(brand=brand)
    return brand, first, second


def test_coupon_codes_are_unique_in_the_brand(world, two_orders) -> None:  # type: ignore[no-untyped-def]
    brand, first, second = two_orders
    made = _coupon(world, first, brand)
    assert made["code"].startswith("PAP") and len(made["code"]) == 10
    own = _coupon(world, first, brand, "lily20")
    assert own["code"] == "LILY20"
    again = world.client.post(
        f"/api/v1/orders/{first}/coupons", json={"code": "Lily20"}, headers=brand.headers
    )
    assert again.status_code == 200 and again.json()["id"] == own["id"]
    taken = world.client.post(
        f"/api/v1/orders/{second}/coupons", json={"code": "LILY20"}, headers=brand.headers
    )
    assert taken.status_code == 409 and taken.json()["code"] == "coupon_code_taken"
    bad = world.client.post(
        f"/api/v1/orders/{second}/coupons", json={"code": "no spaces"}, headers=brand.headers
    )
    assert bad.status_code == 422


def test_signature_checks(world, two_orders) -> None:  # type: ignore[no-untyped-def]
    brand, first, _ = two_orders
    store = _store(world, brand)
    payload = _paid("T-1")
    wrong = _send(world, store, payload, secret="whsec_not_the_secret")
    assert wrong.status_code == 400 and wrong.json()["code"] == "signature_invalid"
    old = _send(world, store, payload, timestamp=int(now().timestamp()) - 301)
    assert old.status_code == 400 and old.json()["code"] == "signature_expired"
    ahead = _send(world, store, payload, timestamp=int(now().timestamp()) + 301)
    assert ahead.json()["code"] == "signature_expired"
    unsigned = world.client.post(
        "/api/v1/conversions",
        content=canonical_json(payload),
        headers={"Pappus-Store": store["id"]},
    )
    assert unsigned.status_code == 400 and unsigned.json()["code"] == "signature_invalid"
    unknown = world.client.post(
        "/api/v1/conversions",
        content=canonical_json(payload),
        headers={"Pappus-Store": "sto_nope", "Pappus-Signature": "t=1,v1=00"},
    )
    assert unknown.status_code == 400
    # A body changed after signing does not pass.
    stamp = int(now().timestamp())
    signature = sign(store["signing_secret"], stamp, canonical_json(payload))
    tampered = world.client.post(
        "/api/v1/conversions",
        content=canonical_json({**payload, "amount": 1}),
        headers={"Pappus-Store": store["id"], "Pappus-Signature": signature},
    )
    assert tampered.json()["code"] == "signature_invalid"
    listed = ok(world.client.get("/api/v1/conversions", headers=brand.headers))
    assert listed["items"] == []


def test_malformed_and_skewed_bodies(world, two_orders) -> None:  # type: ignore[no-untyped-def]
    brand, _, _ = two_orders
    store = _store(world, brand)
    assert _send(world, store, {}, raw=b"{not json").status_code == 422
    missing = _send(
        world, store, {"type": "order.paid", "order_id": "x", "occurred_at": now().isoformat()}
    )
    assert missing.status_code == 422
    future = _paid("T-2", occurred_at=(now() + timedelta(hours=1)).isoformat())
    response = _send(world, store, future)
    assert (
        response.status_code == 422 and response.json()["errors"][0]["field"] == "body.occurred_at"
    )
    naive = _send(world, store, _paid("T-3", occurred_at="2026-11-30T10:00:00"))
    assert naive.status_code == 422
    usd = _send(world, store, _paid("T-4", currency="USD"))
    assert usd.status_code == 422 and usd.json()["errors"][0]["field"] == "body.currency"
    negative = _send(world, store, _paid("T-5", amount=-1))
    assert negative.status_code == 422


def test_replays_are_idempotent_and_different_bodies_refused(world, two_orders) -> None:  # type: ignore[no-untyped-def]
    brand, first, _ = two_orders
    store = _store(world, brand)
    coupon = _coupon(world, first, brand)
    payload = _paid("T-10", coupon_codes=[coupon["code"].lower()])
    created = _send(world, store, payload)
    assert created.status_code == 201
    assert created.json()["conversion"]["order_id"] == first
    assert created.json()["conversion"]["attribution"] == "coupon"
    replay = _send(world, store, payload)
    assert replay.status_code == 200
    assert replay.json()["conversion"]["id"] == created.json()["conversion"]["id"]
    changed = _send(world, store, {**payload, "amount": 1})
    assert changed.status_code == 409 and changed.json()["code"] == "conversion_exists"
    listed = ok(world.client.get("/api/v1/conversions", headers=brand.headers))
    assert len(listed["items"]) == 1


def test_two_coupons_first_recognised_wins(world, two_orders) -> None:  # type: ignore[no-untyped-def]
    brand, first, second = two_orders
    store = _store(world, brand)
    a = _coupon(world, first, brand, "ALPHA")
    b = _coupon(world, second, brand, "BRAVO")
    result = _send(world, store, _paid("T-20", coupon_codes=["UNKNOWN", b["code"], a["code"]]))
    conversion = result.json()["conversion"]
    assert (conversion["order_id"], conversion["coupon_code"]) == (second, "BRAVO")
    assert conversion["evidence"]["recognised_coupons"] == ["BRAVO", "ALPHA"]


def test_coupon_beats_an_earlier_click_and_clicks_attribute_last(world, app, two_orders) -> None:  # type: ignore[no-untyped-def]
    brand, first, second = two_orders
    store = _store(world, brand)
    click_first = _clicked(world, app, first, brand)
    clock.advance(timedelta(hours=1))
    click_second = _clicked(world, app, second, brand)
    clock.advance(timedelta(hours=1))
    coupon = _coupon(world, first, brand)
    # Click then coupon: the coupon wins.
    both = _send(
        world, store, _paid("T-30", coupon_codes=[coupon["code"]], click_ids=[click_second])
    ).json()["conversion"]
    assert (both["order_id"], both["attribution"]) == (first, "coupon")
    # Clicks only: the latest eligible one, whatever order the store lists them in.
    last = _send(world, store, _paid("T-31", click_ids=[click_second, click_first])).json()
    assert (last["conversion"]["order_id"], last["conversion"]["click_id"]) == (
        second,
        click_second,
    )
    assert last["conversion"]["evidence"]["rule"] == "last_click"


def test_clicks_outside_the_window_bots_and_strangers_do_not_attribute(
    world, app, two_orders
) -> None:  # type: ignore[no-untyped-def]
    brand, first, _ = two_orders
    store = _store(world, brand, window_days=1)
    old_click = _clicked(world, app, first, brand)
    bot_click = _clicked(world, app, first, brand, agent="facebookexternalhit/1.1")
    other_brand = world.brand()
    foreign_order, _, _ = world.order(brand=other_brand)
    foreign_click = _clicked(world, app, foreign_order, other_brand)
    clock.advance(timedelta(days=2))
    result = _send(
        world,
        store,
        _paid("T-40", click_ids=[old_click, bot_click, foreign_click, "clk_unknown"]),
    ).json()["conversion"]
    assert result["status"] == "unattributed" and result["order_id"] is None
    verdicts = {c["id"]: c["verdict"] for c in result["evidence"]["clicks"]}
    assert verdicts == {old_click: "outside_window", bot_click: "bot"}
    assert result["evidence"]["unknown_click_ids"] == sorted([foreign_click, "clk_unknown"])


def test_refunds_partial_full_replayed_and_excessive(world, two_orders) -> None:  # type: ignore[no-untyped-def]
    brand, first, _ = two_orders
    store = _store(world, brand)
    coupon = _coupon(world, first, brand)
    ok(_send(world, store, _paid("T-50", amount=10_000, coupon_codes=[coupon["code"]])), 201)

    stamp = now().isoformat()

    def refund(refund_id: str, amount: int):  # type: ignore[no-untyped-def]
        return _send(
            world,
            store,
            {
                "type": "order.refunded",
                "order_id": "T-50",
                "refund_id": refund_id,
                "amount": amount,
                "occurred_at": stamp,
            },
        )

    first_refund = refund("R-1", 4_000)
    assert first_refund.status_code == 201
    assert first_refund.json()["conversion"]["refunded_amount"] == 4_000
    assert first_refund.json()["conversion"]["status"] == "attributed"
    assert refund("R-1", 4_000).status_code == 200  # a replay
    assert refund("R-1", 3_000).json()["code"] == "refund_exists"
    too_much = refund("R-2", 6_001)
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "body.amount"
    rest = refund("R-3", 6_000).json()["conversion"]
    assert (rest["refunded_amount"], rest["status"]) == (10_000, "voided")
    unknown = _send(
        world,
        store,
        {
            "type": "order.refunded",
            "order_id": "T-404",
            "refund_id": "R",
            "amount": 1,
            "occurred_at": now().isoformat(),
        },
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "conversion_not_found"


def test_cancel_voids_once(world, two_orders) -> None:  # type: ignore[no-untyped-def]
    brand, first, _ = two_orders
    store = _store(world, brand)
    ok(_send(world, store, _paid("T-60")), 201)
    cancel = {"type": "order.cancelled", "order_id": "T-60", "occurred_at": now().isoformat()}
    voided = _send(world, store, cancel)
    assert voided.status_code == 201 and voided.json()["conversion"]["status"] == "voided"
    again = _send(world, store, cancel)
    assert again.status_code == 200
    assert (
        ok(world.client.get("/api/v1/conversions?status=voided", headers=brand.headers))["items"][
            0
        ]["external_order_id"]
        == "T-60"
    )


def test_stores_belong_to_their_brand(world, two_orders) -> None:  # type: ignore[no-untyped-def]
    brand, _, _ = two_orders
    store = _store(world, brand)
    other = world.brand()
    mine = ok(world.client.get("/api/v1/stores", headers=brand.headers))["items"]
    assert [s["id"] for s in mine] == [store["id"]]
    assert "signing_secret" not in mine[0]
    assert ok(world.client.get("/api/v1/stores", headers=other.headers))["items"] == []
    bad = world.client.post(
        "/api/v1/stores", json={"name": "x", "currency": "XXX"}, headers=brand.headers
    )
    assert bad.status_code == 422
