"""Busy endpoints run a fixed number of queries, however many rows they show (no N+1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import psycopg
from sqlalchemy import event

from tests.fixtures.builders import World, ok


@contextmanager
def sent_statements(world: World) -> Iterator[list[str]]:
    """Every statement sent, as the driver got it. On PostgreSQL the hottest statements skip
    SQLAlchemy (`pappus.db.execute_on_driver`), so they are recorded at psycopg's cursor,
    where SQLAlchemy's own statements pass too."""
    sent: list[str] = []
    if world.db.is_sqlite:

        def record(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
            sent.append(" ".join(statement.split()))

        event.listen(world.db.engine, "before_cursor_execute", record)
        try:
            yield sent
        finally:
            event.remove(world.db.engine, "before_cursor_execute", record)
        return
    execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany

    def recorded(real):  # type: ignore[no-untyped-def]
        def send(cursor, query, *args, **kwargs):  # type: ignore[no-untyped-def]
            text = " ".join(str(query).split())
            if text != ";":  # the pool's ping of a connection idle for a second (pappus.db)
                sent.append(text)
            return real(cursor, query, *args, **kwargs)

        return send

    with (
        mock.patch.object(psycopg.Cursor, "execute", recorded(execute)),
        mock.patch.object(psycopg.Cursor, "executemany", recorded(executemany)),
    ):
        yield sent


@contextmanager
def counting(world: World) -> Iterator[list[str]]:
    """The queries sent, without transaction control."""
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
    with sent_statements(world) as sent:
        statements: list[str] = []
        yield statements
    statements.extend(s for s in sent if not s.upper().startswith(control))


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
    """The authorization check's rows (the application and its campaign, in one query) serve
    the operation; inserts that can lose a race use ON CONFLICT, not a savepoint (two more
    round trips each on PostgreSQL)."""
    brand = world.brand()
    application = world.application(world.creator(), world.campaign(brand))
    with sent_statements(world) as sent:
        url = f"/api/v1/applications/{application['id']}/accept"
        order_id = ok(world.client.post(url, headers=brand.headers), 201)["order"]["id"]
        accept = list(sent)
        sent.clear()
        url = f"/api/v1/orders/{order_id}/cancel"
        ok(world.client.post(url, json={"reason": "changed plans"}, headers=brand.headers))
        cancel = list(sent)

    def selects(statements: list[str], table: str) -> int:
        """SELECTs whose first FROM is the table."""
        return sum(
            s.startswith("SELECT ") and s.partition(" FROM ")[2].startswith(f"{table} ")
            for s in statements
        )

    for statements in (accept, cancel):
        assert not [s for s in statements if s.upper().startswith("SAVEPOINT")], statements
    assert selects(accept, "applications") == 1, accept  # with its campaign, joined
    assert selects(accept, "campaigns") == 1, accept  # the row lock
    assert selects(accept, "order_events") == 0, accept  # a new order has no previous event
    # the decision, and the pair's invitation superseded: an application has no sibling
    # application (one per campaign and creator)
    assert sum(s.startswith("UPDATE applications ") for s in accept) == 1, accept
    assert sum(s.startswith("UPDATE invitations ") for s in accept) == 1, accept
    assert selects(cancel, "orders") == 1, cancel
    assert selects(cancel, "order_events") == 1, cancel  # the last link of the chain
