"""Every POST that creates an order or moves money honours an Idempotency-Key header.

A replay (same caller, same key, same request) returns the first response, marked
`Idempotent-Replayed: true`, and changes nothing; the same key with another request is a 422
`idempotency_key_reused`; keys belong to the caller, so two callers' keys never collide; a
request that was refused does not use its key up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from httpx import Response
from sqlalchemy import func, select

from pappus.db import Base, Database
from pappus.kit.clock import clock
from pappus.kit.idempotency import MAX_KEY_LENGTH, IdempotencyRecord
from pappus.orders.models import Order, OrderEvent
from tests.fixtures.builders import Who, World, ok

API = "/api/v1"
PROBLEM = "application/problem+json"
REPLAYED = "Idempotent-Replayed"


def db_state(db: Database) -> dict[str, list[str]]:
    """Every row of every table: a replay must leave all of them as they were."""
    with db.engine.connect() as conn:
        return {
            table.name: sorted(repr(tuple(row)) for row in conn.execute(table.select()))
            for table in Base.metadata.sorted_tables
        }


def count(db: Database, model: Any, *where: Any) -> int:
    with db.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def assert_problem(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].split(";")[0] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["status"] == status, body
    assert REPLAYED.lower() not in response.headers
    return body


def keyed(who: Who, key: str) -> dict[str, str]:
    return who.headers | {"Idempotency-Key": key}


def order_ids(world: World, who: Who) -> list[str]:
    return [o["id"] for o in ok(world.client.get(f"{API}/orders", headers=who.headers))["items"]]


def accept(world: World, application_id: str, who: Who, key: str | None, **body: Any) -> Response:
    headers = keyed(who, key) if key is not None else who.headers
    return world.client.post(
        f"{API}/applications/{application_id}/accept", json=body or None, headers=headers
    )


@pytest.fixture
def offer(world: World) -> tuple[Who, Who, dict[str, Any]]:
    """A brand, a creator and the creator's pending application to the brand's campaign."""
    brand, creator = world.brand(), world.creator()
    application = world.application(creator, world.campaign(brand))
    return brand, creator, application


# -- accepting an application ---------------------------------------------------------------


def test_accepting_twice_with_a_key_creates_one_order(
    world: World, offer: tuple[Who, Who, dict[str, Any]]
) -> None:
    brand, creator, application = offer
    # given an application accepted with a key
    first = accept(world, application["id"], brand, "accept-1", note="welcome aboard")
    assert first.status_code == 201, first.text
    assert REPLAYED.lower() not in first.headers
    order_id = first.json()["order"]["id"]
    before = db_state(world.db)
    # when the same request is sent again with the same key
    replay = accept(world, application["id"], brand, "accept-1", note="welcome aboard")
    # then the first response comes back, marked as a replay
    assert replay.status_code == 201
    assert replay.headers[REPLAYED] == "true"
    assert replay.json() == first.json()
    # and nothing happened: one order, one creation event, the database as it was
    assert db_state(world.db) == before
    assert order_ids(world, brand) == [order_id]
    assert order_ids(world, creator) == [order_id]
    assert count(world.db, OrderEvent, OrderEvent.order_id == order_id) == 1
    assert count(world.db, IdempotencyRecord) == 1


def test_a_replay_without_a_body_matches_a_first_request_without_one(
    world: World, offer: tuple[Who, Who, dict[str, Any]]
) -> None:
    brand, _, application = offer
    first = accept(world, application["id"], brand, "no-body")
    replay = accept(world, application["id"], brand, "no-body")
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.headers[REPLAYED] == "true"
    assert replay.json() == first.json()
    assert len(order_ids(world, brand)) == 1


def test_the_same_key_with_a_different_body_is_refused(
    world: World, offer: tuple[Who, Who, dict[str, Any]]
) -> None:
    brand, _, application = offer
    first = accept(world, application["id"], brand, "accept-1", note="welcome aboard")
    assert first.status_code == 201, first.text
    before = db_state(world.db)
    for other in ({"note": "a different note"}, {}):
        # when the key is reused for another body
        response = accept(world, application["id"], brand, "accept-1", **other)
        # then it is refused, naming the header, and nothing changes
        body = assert_problem(response, 422, "idempotency_key_reused")
        assert [e["field"] for e in body["errors"]] == ["header.Idempotency-Key"]
    assert db_state(world.db) == before
    # and the original request still replays
    replay = accept(world, application["id"], brand, "accept-1", note="welcome aboard")
    assert replay.headers[REPLAYED] == "true" and replay.json() == first.json()


def test_the_same_key_on_another_application_is_refused(world: World) -> None:
    brand = world.brand()
    campaign = world.campaign(brand)
    first_app = world.application(world.creator(), campaign)
    second_app = world.application(world.creator(), campaign)
    ok(accept(world, first_app["id"], brand, "batch-7"), 201)
    before = db_state(world.db)
    response = accept(world, second_app["id"], brand, "batch-7")
    assert_problem(response, 422, "idempotency_key_reused")
    assert db_state(world.db) == before
    second = ok(world.client.get(f"{API}/applications/{second_app['id']}", headers=brand.headers))
    assert second["status"] == "pending" and second["order_id"] is None
    assert len(order_ids(world, brand)) == 1


def test_keys_belong_to_the_caller(world: World) -> None:
    # given two brands, each with an application to accept
    brand_a, brand_b = world.brand(), world.brand()
    app_a = world.application(world.creator(), world.campaign(brand_a))
    app_b = world.application(world.creator(), world.campaign(brand_b))
    # when both use the same key
    first_a = accept(world, app_a["id"], brand_a, "order-1")
    first_b = accept(world, app_b["id"], brand_b, "order-1")
    # then neither is a replay of the other: two orders, one each
    assert (first_a.status_code, first_b.status_code) == (201, 201)
    assert REPLAYED.lower() not in first_a.headers and REPLAYED.lower() not in first_b.headers
    assert first_a.json()["order"]["id"] != first_b.json()["order"]["id"]
    assert order_ids(world, brand_a) == [first_a.json()["order"]["id"]]
    assert order_ids(world, brand_b) == [first_b.json()["order"]["id"]]
    # and a teammate sending brand A's request with brand A's key does not get A's stored
    # response: the request runs as theirs, and is refused because the offer is taken
    teammate = world.member(brand_a, "admin")
    before = db_state(world.db)
    response = accept(world, app_a["id"], teammate, "order-1")
    assert_problem(response, 409, "not_pending")
    assert db_state(world.db) == before
    # while the same key on a new application of theirs simply works
    app_c = world.application(world.creator(), world.campaign(brand_a))
    own = accept(world, app_c["id"], teammate, "order-1")
    assert own.status_code == 201 and REPLAYED.lower() not in own.headers
    assert len(order_ids(world, brand_a)) == 2


def race(*calls: Callable[[], Response]) -> list[Response]:
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Response]) -> Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_the_same_key_sent_at_once_makes_one_order(
    world: World, offer: tuple[Who, Who, dict[str, Any]]
) -> None:
    brand, _, application = offer
    # when four copies of one keyed request arrive together
    results = race(*[lambda: accept(world, application["id"], brand, "burst-1")] * 4)
    # then each is the order's creation, its replay, or a "still in progress" refusal
    created = [r for r in results if r.status_code == 201]
    assert created, [r.text for r in results]
    assert all(r.json() == created[0].json() for r in created)
    for refused in (r for r in results if r.status_code != 201):
        assert refused.status_code in (409, 503), refused.text
        assert refused.json()["code"] in {"idempotency_in_progress", "busy"}, refused.text
    assert sum(REPLAYED.lower() not in r.headers for r in created) == 1
    # and exactly one order exists, which a later replay returns
    assert count(world.db, Order) == 1
    replay = accept(world, application["id"], brand, "burst-1")
    assert replay.headers[REPLAYED] == "true" and replay.json() == created[0].json()


def test_the_caller_not_the_token_owns_the_key(
    world: World, offer: tuple[Who, Who, dict[str, Any]]
) -> None:
    brand, _, application = offer
    first = accept(world, application["id"], brand, "session-1")
    # the same person signed in again (a new token) replays the first response
    again = Who(email=brand.email, token=world.login(brand.email))
    replay = accept(world, application["id"], again, "session-1")
    assert replay.status_code == 201 and replay.headers[REPLAYED] == "true"
    assert replay.json() == first.json()


def test_a_replay_after_the_order_moved_on_still_returns_the_first_response(
    world: World, offer: tuple[Who, Who, dict[str, Any]]
) -> None:
    brand, _, application = offer
    first = accept(world, application["id"], brand, "accept-late")
    order_id = first.json()["order"]["id"]
    ok(
        world.client.post(
            f"{API}/orders/{order_id}/cancel",
            json={"reason": "plans changed"},
            headers=brand.headers,
        )
    )
    before = db_state(world.db)
    replay = accept(world, application["id"], brand, "accept-late")
    assert replay.status_code == 201 and replay.headers[REPLAYED] == "true"
    assert replay.json() == first.json()
    assert db_state(world.db) == before
    assert order_ids(world, brand) == [order_id]


def test_a_refused_request_does_not_use_its_key_up(world: World) -> None:
    # given a brand with an empty wallet
    brand = world.brand(funded=0)
    application = world.application(world.creator(), world.campaign(brand))
    before = db_state(world.db)
    # when it accepts with a key, the escrow cannot be held: nothing happens
    refused = accept(world, application["id"], brand, "accept-when-funded")
    assert_problem(refused, 402, "insufficient_funds")
    assert db_state(world.db) == before
    # then once funded, the same key runs the request for real
    world.fund(brand)
    accepted = accept(world, application["id"], brand, "accept-when-funded")
    assert accepted.status_code == 201, accepted.text
    assert REPLAYED.lower() not in accepted.headers
    assert order_ids(world, brand) == [accepted.json()["order"]["id"]]


# -- other writes that create orders or move money ------------------------------------------


def test_accepting_an_invitation_twice_with_a_key_creates_one_order(world: World) -> None:
    brand, creator = world.brand(), world.creator()
    campaign = world.campaign(brand, visibility="invite_only")
    invitation = ok(
        world.client.post(
            f"{API}/campaigns/{campaign['id']}/invitations",
            json={"creator_id": creator.creator_id, "offer_amount": 300_000},
            headers=brand.headers,
        ),
        201,
    )
    url = f"{API}/invitations/{invitation['id']}/accept"
    first = world.client.post(url, json={"note": "yes"}, headers=keyed(creator, "inv-1"))
    assert first.status_code == 201, first.text
    before = db_state(world.db)
    replay = world.client.post(url, json={"note": "yes"}, headers=keyed(creator, "inv-1"))
    assert replay.status_code == 201 and replay.headers[REPLAYED] == "true"
    assert replay.json() == first.json()
    assert db_state(world.db) == before
    assert order_ids(world, creator) == [first.json()["order"]["id"]]
    assert_problem(
        world.client.post(url, json={"note": "no"}, headers=keyed(creator, "inv-1")),
        422,
        "idempotency_key_reused",
    )


def _wallet(world: World, brand: Who) -> dict[str, Any]:
    return dict(ok(world.client.get(f"{API}/wallet", headers=brand.headers)))


def test_cancelling_with_a_key_refunds_once(world: World) -> None:
    order_id, brand, _ = world.to_state("draft_review")
    url = f"{API}/orders/{order_id}/cancel"
    first = world.client.post(url, json={"reason": "changed plans"}, headers=keyed(brand, "c-1"))
    assert first.status_code == 200, first.text
    assert first.json()["state"] == "cancelled"
    wallet = _wallet(world, brand)
    events = count(world.db, OrderEvent, OrderEvent.order_id == order_id)
    before = db_state(world.db)
    # a replay returns the same cancellation and moves no money
    replay = world.client.post(url, json={"reason": "changed plans"}, headers=keyed(brand, "c-1"))
    assert replay.status_code == 200 and replay.headers[REPLAYED] == "true"
    assert replay.json() == first.json()
    assert _wallet(world, brand) == wallet
    assert count(world.db, OrderEvent, OrderEvent.order_id == order_id) == events
    assert (
        count(world.db, OrderEvent, OrderEvent.order_id == order_id, OrderEvent.action == "cancel")
        == 1
    )
    # another reason under the same key is refused
    assert_problem(
        world.client.post(url, json={"reason": "other"}, headers=keyed(brand, "c-1")),
        422,
        "idempotency_key_reused",
    )
    # and without a key, cancelling again is out of turn
    assert_problem(
        world.client.post(url, json={"reason": "changed plans"}, headers=brand.headers),
        409,
        "order_not_in_state",
    )
    assert db_state(world.db) == before


def test_resolving_a_dispute_with_a_reused_key_is_refused(world: World) -> None:
    order_id, brand, _ = world.to_state("disputed")
    staff = world.staff()
    dispute_id = world.get_order(order_id, staff)["open_dispute_id"]
    url = f"{API}/disputes/{dispute_id}/resolve"
    body = {"resolution": "refund", "note": "never delivered"}
    first = world.client.post(url, json=body, headers=keyed(staff, "resolve-9"))
    assert first.status_code == 200, first.text
    wallet = _wallet(world, brand)
    before = db_state(world.db)
    replay = world.client.post(url, json=body, headers=keyed(staff, "resolve-9"))
    assert replay.headers[REPLAYED] == "true" and replay.json() == first.json()
    assert_problem(
        world.client.post(
            url,
            json={"resolution": "release", "note": "never delivered"},
            headers=keyed(staff, "resolve-9"),
        ),
        422,
        "idempotency_key_reused",
    )
    assert _wallet(world, brand) == wallet
    assert db_state(world.db) == before
    assert world.get_order(order_id, brand)["state"] == "cancelled"


def test_a_deposit_with_a_key_is_made_once(world: World) -> None:
    brand = world.brand(funded=0)
    url = f"{API}/wallet/deposits"
    body = {"amount": 500_000, "currency": "CNY", "organization_id": brand.organization_id}
    first = world.client.post(url, json=body, headers=keyed(brand, "dep-1"))
    assert first.status_code == 201, first.text
    before = db_state(world.db)
    replay = world.client.post(url, json=body, headers=keyed(brand, "dep-1"))
    assert replay.status_code == 201 and replay.headers[REPLAYED] == "true"
    assert replay.json() == first.json()
    assert db_state(world.db) == before
    deposits = ok(world.client.get(url, headers=brand.headers))["items"]
    assert [d["id"] for d in deposits] == [first.json()["id"]]
    assert_problem(
        world.client.post(url, json=body | {"amount": 600_000}, headers=keyed(brand, "dep-1")),
        422,
        "idempotency_key_reused",
    )
    assert db_state(world.db) == before


def test_a_payout_with_a_key_is_paid_once(world: World) -> None:
    # given a creator whose earnings from a completed order have matured
    from pappus.ledger import payouts

    _, _, creator = world.to_state("completed")
    clock.advance(timedelta(days=8))
    with world.db.unit_of_work() as session:
        payouts.mature_earnings(session)
    method = ok(
        world.client.post(
            f"{API}/payout-methods",
            json={"kind": "alipay", "holder_name": "Lin", "account_number": "13800138000"},
            headers=creator.headers,
        ),
        201,
    )
    url = f"{API}/payouts"
    body = {"amount": 100_000, "currency": "CNY", "payout_method_id": method["id"]}
    first = world.client.post(url, json=body, headers=keyed(creator, "payout-1"))
    assert first.status_code == 201, first.text
    earnings = ok(world.client.get(f"{API}/earnings", headers=creator.headers))
    before = db_state(world.db)
    # a replay returns the same payout and holds no more money
    replay = world.client.post(url, json=body, headers=keyed(creator, "payout-1"))
    assert replay.status_code == 201 and replay.headers[REPLAYED] == "true"
    assert replay.json() == first.json()
    # another amount under the same key is refused
    assert_problem(
        world.client.post(url, json=body | {"amount": 200_000}, headers=keyed(creator, "payout-1")),
        422,
        "idempotency_key_reused",
    )
    assert db_state(world.db) == before
    assert ok(world.client.get(f"{API}/earnings", headers=creator.headers)) == earnings
    assert [p["id"] for p in ok(world.client.get(url, headers=creator.headers))["items"]] == [
        first.json()["id"]
    ]


# -- the key itself -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["k" * (MAX_KEY_LENGTH + 1), "", "tab\tinside", "x" * 1000],
    ids=["256-chars", "empty", "control-character", "1000-chars"],
)
def test_a_malformed_key_is_a_422_and_changes_nothing(
    world: World, offer: tuple[Who, Who, dict[str, Any]], key: str
) -> None:
    brand, _, application = offer
    before = db_state(world.db)
    response = accept(world, application["id"], brand, key)
    body = assert_problem(response, 422, "invalid_input")
    assert [e["field"] for e in body["errors"]] == ["header.Idempotency-Key"]
    assert db_state(world.db) == before
    assert order_ids(world, brand) == []


def test_a_key_of_255_characters_is_accepted_and_replays(
    world: World, offer: tuple[Who, Who, dict[str, Any]]
) -> None:
    brand, _, application = offer
    key = "k" * MAX_KEY_LENGTH
    first = accept(world, application["id"], brand, key)
    assert first.status_code == 201, first.text
    replay = accept(world, application["id"], brand, key)
    assert replay.headers[REPLAYED] == "true" and replay.json() == first.json()
    assert len(order_ids(world, brand)) == 1


def test_a_key_stored_since_the_lookup_refuses_the_request_and_keeps_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unique (caller, key) row is the last line of defence behind the locks: if a first
    request's row appears after this one looked, this one is refused and rolled back whole."""
    from pappus.kit import idempotency

    brand = world.brand(funded=0)
    url = f"{API}/wallet/deposits"
    body = {"amount": 500_000, "currency": "CNY", "organization_id": brand.organization_id}
    first = world.client.post(url, json=body, headers=keyed(brand, "dep-late"))
    assert first.status_code == 201, first.text
    before = db_state(world.db)
    monkeypatch.setattr(idempotency, "_find", lambda *_args: None)  # as if not there yet
    assert_problem(
        world.client.post(url, json=body, headers=keyed(brand, "dep-late")),
        409,
        "idempotency_in_progress",
    )
    assert db_state(world.db) == before
    deposits = ok(world.client.get(url, headers=brand.headers))["items"]
    assert [d["id"] for d in deposits] == [first.json()["id"]]
