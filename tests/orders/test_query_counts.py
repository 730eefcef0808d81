"""Busy endpoints run a fixed number of queries, however many rows they show (no N+1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from tests.fixtures.builders import World, ok


@contextmanager
def counting(world: World) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if (
            not statement.lstrip()
            .upper()
            .startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"))
        ):
            statements.append(statement)

    event.listen(world.db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(world.db.engine, "before_cursor_execute", record)


def test_order_detail_query_count_does_not_grow_with_history(world: World) -> None:
    order_id, brand, creator = world.to_state("draft_review")
    with counting(world) as short_history:
        ok(world.client.get(f"/api/v1/orders/{order_id}", headers=brand.headers))
    for _ in range(2):
        draft = ok(world.client.get(f"/api/v1/orders/{order_id}/drafts", headers=brand.headers))[
            "items"
        ][0]["id"]
        ok(world.request_changes(order_id, draft, brand))
        world.submit_draft(order_id, creator)
    with counting(world) as long_history:
        ok(world.client.get(f"/api/v1/orders/{order_id}", headers=brand.headers))
    assert len(long_history) == len(short_history) <= 5, long_history


def test_order_list_query_count_is_constant(world: World) -> None:
    brand = world.brand()
    world.order(brand=brand)
    with counting(world) as one:
        ok(world.client.get("/api/v1/orders", headers=brand.headers))
    for _ in range(5):
        world.order(brand=brand)
    with counting(world) as six:
        page = ok(world.client.get("/api/v1/orders", headers=brand.headers))
    assert len(page["items"]) == 6
    assert len(six) == len(one) <= 4, six


def test_campaign_and_application_lists_are_constant(world: World) -> None:
    brand = world.brand()
    campaign = world.campaign(brand)
    world.application(world.creator(), campaign)
    url = f"/api/v1/campaigns/{campaign['id']}/applications"
    with counting(world) as one:
        ok(world.client.get(url, headers=brand.headers))
        ok(world.client.get("/api/v1/campaigns", headers=brand.headers))
    for _ in range(4):
        world.application(world.creator(), campaign)
        world.campaign(brand)
    with counting(world) as five:
        ok(world.client.get(url, headers=brand.headers))
        ok(world.client.get("/api/v1/campaigns", headers=brand.headers))
    assert len(five) == len(one)


def test_accept_and_cancel_read_each_row_once_and_take_no_savepoints(world: World) -> None:
    """The authorization check's rows serve the operation; inserts that can lose a race use
    ON CONFLICT, not a savepoint (two more round trips each on PostgreSQL)."""
    brand = world.brand()
    application = world.application(world.creator(), world.campaign(brand))
    sent: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        sent.append(" ".join(statement.split()))

    event.listen(world.db.engine, "before_cursor_execute", record)
    try:
        url = f"/api/v1/applications/{application['id']}/accept"
        order_id = ok(world.client.post(url, headers=brand.headers), 201)["order"]["id"]
        accept = list(sent)
        sent.clear()
        url = f"/api/v1/orders/{order_id}/cancel"
        ok(world.client.post(url, json={"reason": "changed plans"}, headers=brand.headers))
        cancel = list(sent)
    finally:
        event.remove(world.db.engine, "before_cursor_execute", record)

    def selects(statements: list[str], table: str) -> int:
        return sum(s.startswith(f"SELECT {table}.id,") for s in statements)

    for statements in (accept, cancel):
        assert not [s for s in statements if s.upper().startswith("SAVEPOINT")], statements
    assert selects(accept, "applications") == 1, accept
    assert selects(accept, "campaigns") == 2, accept  # the read, then the row lock
    assert selects(accept, "order_events") == 0, accept  # a new order has no previous event
    assert selects(cancel, "orders") == 1, cancel
