"""The inserts that can lose a race: the loser gets a typed conflict, nothing is written, and
its transaction stays usable (no savepoint, so PostgreSQL must not have aborted it)."""

from __future__ import annotations

from unittest import mock

import pytest
from sqlalchemy import func, select, text

from pappus.ledger.models import LedgerTransaction
from pappus.orders import repository, service
from pappus.orders.models import Order, OrderEvent
from tests.fixtures.builders import World, ok


def test_an_event_whose_sequence_was_taken_is_order_changed(world: World) -> None:
    order_id, brand, _ = world.order()
    with world.db.unit_of_work() as session:
        order = session.get(Order, order_id)
        assert order is not None
        events_before = session.scalar(select(func.count(OrderEvent.id)))
        # As if a concurrent writer appended event 1 after this one read the chain.
        with (
            mock.patch.object(repository, "last_link", return_value=None),
            pytest.raises(service.OrderChanged) as raised,
        ):
            service._record_event(
                session,
                order,
                "note",
                order.state,
                order.state,
                service.Actor.system,
                None,
                {},
                order.created_at,
            )
        assert raised.value.code == "order_changed"
        assert session.scalar(select(func.count(OrderEvent.id))) == events_before
    assert world.get_order(order_id, brand)["state"] == "awaiting_draft"


def test_a_second_order_for_the_same_pair_is_order_exists(world: World) -> None:
    order_id, brand, _ = world.order()
    with world.db.unit_of_work() as session:
        order = session.get(Order, order_id)
        assert order is not None
        terms = service.OrderTerms(
            campaign_id=order.campaign_id,
            campaign_name="the same campaign",
            organization_id=order.organization_id,
            creator_id=order.creator_id,
            source_kind="invitation",
            source_id="inv_another_offer",
            currency=order.currency,
            price_amount=order.price_amount,
            bonus_cap_amount=0,
            brief={},
            deliverables=[],
            kpis=[],
            timeline={},
            usage_rights={},
            compensation_model="fixed",
        )
        holds_before = session.scalar(select(func.count(LedgerTransaction.id)))
        with pytest.raises(service.AlreadyHasOrder) as raised:
            service.create_order(session, terms, actor=service.Actor.brand, actor_id=None)
        assert raised.value.code == "order_exists"
        assert session.scalar(select(func.count(Order.id))) == 1
        assert session.scalar(select(func.count(LedgerTransaction.id))) == holds_before


def test_an_order_insert_with_a_key_that_is_no_column_is_refused(world: World) -> None:
    """The prebuilt INSERT takes the values as parameters, where SQLAlchemy's bulk path would
    drop a misspelt key without a word."""
    with world.db.unit_of_work() as session, pytest.raises(ValueError, match="escrow_amout"):
        repository.insert_order(session, {"escrow_amout": 1})


def test_a_new_order_leaves_its_json_columns_sql_null(world: World) -> None:
    """The prebuilt INSERT names every column: a JSON column with no value must be SQL NULL,
    not JSON's null, or `settlement IS NULL` (the ledger check's settled orders) misses it;
    and the order reads back whole."""
    brand = world.brand()
    application = world.application(world.creator(), world.campaign(brand))
    url = f"/api/v1/applications/{application['id']}/accept"
    order_id = ok(world.client.post(url, headers=brand.headers), 201)["order"]["id"]
    with world.db.unit_of_work(write=False) as session:
        row = session.execute(
            text(
                "SELECT settlement IS NULL, kpi_result IS NULL, version, revisions_used "
                "FROM orders WHERE id = :id"
            ),
            {"id": order_id},
        ).one()
        assert tuple(row) == (True, True, 1, 0)
        order = repository.get(session, order_id)
        assert order is not None and order.contract["money"]["escrow_amount"] > 0
