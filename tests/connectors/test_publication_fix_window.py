"""A published post that loses its disclosure label or is taken down gets a fix window
(PAPPUS_COMPLIANCE_FIX_HOURS, 24 by default); fixed in time, nothing happens, otherwise the
order is flagged: disputed, with the payout held for staff."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pappus.kit.clock import clock
from pappus.orders import publishing
from tests.connectors.conftest import Sandbox
from tests.connectors.test_linking import busy_account, link
from tests.connectors.test_publication_verification import (
    API,
    Platform,
    approved_order,
    submit,
)
from tests.fixtures.builders import Who, World, ok


@pytest.fixture
def linked(world: World, sandbox: Sandbox) -> tuple[Who, Platform]:
    creator = world.creator()
    index = busy_account()
    link(world, creator, index)
    return creator, Platform(sandbox, index)


def _published(world: World, platform: Platform, creator: Who) -> tuple[str, Who, str, str]:
    order_id, brand = approved_order(world, creator)
    post = platform.publish()
    clock.advance(timedelta(hours=1))
    publication = ok(submit(world, order_id, creator, post["url"]), 201)
    return order_id, brand, publication["id"], post["id"]


def _events(world: World, order_id: str, who: Who) -> list[str]:
    events = ok(world.client.get(f"{API}/orders/{order_id}/events", headers=who.headers))
    return [e["action"] for e in events["items"]]


def test_a_label_restored_within_the_window_closes_it_and_the_order_completes(
    world: World, sandbox: Sandbox, linked: tuple[Who, Platform]
) -> None:
    creator, platform = linked
    order_id, brand, publication_id, post_id = _published(world, platform, creator)
    platform.edit(post_id, partnership_label=False)
    clock.advance(timedelta(hours=2))
    publishing.snapshot_publication(world.db, publication_id)
    order = world.get_order(order_id, brand)
    assert order["deadlines"]["compliance_fix_due_at"] is not None
    assert _events(world, order_id, brand)[-1] == "publication_issue"
    # A second read while it is still unlabelled does not move the deadline.
    due = order["deadlines"]["compliance_fix_due_at"]
    clock.advance(timedelta(hours=2))
    publishing.snapshot_publication(world.db, publication_id)
    assert world.get_order(order_id, brand)["deadlines"]["compliance_fix_due_at"] == due
    platform.edit(post_id, partnership_label=True)
    clock.advance(timedelta(hours=2))
    publishing.snapshot_publication(world.db, publication_id)
    order = world.get_order(order_id, brand)
    assert order["deadlines"]["compliance_fix_due_at"] is None
    assert _events(world, order_id, brand)[-1] == "publication_fixed"
    clock.advance(timedelta(days=8))
    world.sweep()
    assert world.get_order(order_id, brand)["state"] == "completed"


@pytest.mark.parametrize("how", ["label", "take_down"])
def test_a_post_not_fixed_in_time_flags_the_order_and_holds_the_payout(
    world: World, sandbox: Sandbox, linked: tuple[Who, Platform], how: str
) -> None:
    creator, platform = linked
    order_id, brand, publication_id, post_id = _published(world, platform, creator)
    if how == "label":
        platform.edit(post_id, partnership_label=False)
    else:
        platform.take_down(post_id)
    clock.advance(timedelta(hours=1))
    publishing.snapshot_publication(world.db, publication_id)
    # Just before the window closes nothing happens.
    clock.advance(timedelta(hours=23, minutes=59))
    world.sweep()
    assert world.get_order(order_id, brand)["state"] == "published"
    clock.advance(timedelta(minutes=2))
    assert world.sweep() == 1
    order = world.get_order(order_id, brand)
    assert order["state"] == "disputed" and order["settlement"] is None
    assert order["deadlines"]["compliance_fix_due_at"] is None
    dispute = ok(
        world.client.get(f"{API}/disputes/{order['open_dispute_id']}", headers=brand.headers)
    )
    expected = "without its disclosure label" if how == "label" else "taken down"
    assert expected in dispute["reason"] and "24 hours" in dispute["reason"]
    assert _events(world, order_id, brand)[-2:] == ["publication_issue", "flag_publication"]


def test_the_measurement_window_waits_for_an_open_fix_window(
    world: World, sandbox: Sandbox, linked: tuple[Who, Platform]
) -> None:
    creator, platform = linked
    order_id, brand, publication_id, post_id = _published(world, platform, creator)
    clock.advance(timedelta(days=6, hours=20))
    platform.edit(post_id, partnership_label=False)
    publishing.snapshot_publication(world.db, publication_id)
    clock.advance(timedelta(hours=6))  # measurement is over, the fix window is not
    world.sweep()
    assert world.get_order(order_id, brand)["state"] == "published"
    clock.advance(timedelta(hours=20))
    world.sweep()
    assert world.get_order(order_id, brand)["state"] == "disputed"
