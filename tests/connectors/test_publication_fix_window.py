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


def test_a_post_taken_down_after_completion_within_retention_holds_the_creators_payouts(
    world: World, sandbox: Sandbox, linked: tuple[Who, Platform]
) -> None:
    from pappus.ledger import payouts

    creator, platform = linked
    order_id, brand, publication_id, post_id = _published(world, platform, creator)
    clock.advance(timedelta(days=8))
    world.sweep()
    assert world.get_order(order_id, brand)["state"] == "completed"
    # Still within the contract's 30 days: the completed order's post is read on schedule.
    assert publication_id in publishing.publications_due(world.db)
    platform.take_down(post_id)
    assert publishing.snapshot_publication(world.db, publication_id) == "removed"
    assert world.get_order(order_id, brand)["deadlines"]["compliance_fix_due_at"] is not None
    clock.advance(timedelta(hours=25))
    world.sweep()
    order = world.get_order(order_id, brand)
    assert order["state"] == "completed" and "taken down" in order["compliance_hold"]
    assert _events(world, order_id, brand)[-2:] == ["publication_issue", "retention_breach"]
    # The creator's matured earnings cannot be paid out while the hold stands.
    clock.advance(timedelta(days=7))
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
    body = {"amount": 100_000, "currency": "CNY", "payout_method_id": method["id"]}
    held = world.client.post(f"{API}/payouts", json=body, headers=creator.headers)
    assert held.status_code == 409 and held.json()["code"] == "payout_held"
    assert held.json()["order_ids"] == [order_id]
    staff = world.staff()
    release = f"{API}/orders/{order_id}/compliance-hold/release"
    note = {"note": "The creator reposted it with the label on the same day"}
    assert world.client.post(release, json=note, headers=brand.headers).status_code == 403
    assert (
        ok(world.client.post(release, json=note, headers=staff.headers))["compliance_hold"] is None
    )
    again = world.client.post(release, json=note, headers=staff.headers)
    assert again.status_code == 409 and again.json()["code"] == "no_compliance_hold"
    ok(world.client.post(f"{API}/payouts", json=body, headers=creator.headers), 201)


def test_reads_stop_when_the_retention_period_ends(
    world: World, sandbox: Sandbox, linked: tuple[Who, Platform]
) -> None:
    creator, platform = linked
    order_id, brand, publication_id, post_id = _published(world, platform, creator)
    clock.advance(timedelta(days=8))
    world.sweep()
    clock.advance(timedelta(days=23))
    assert publication_id not in publishing.publications_due(world.db)
    platform.take_down(post_id)
    assert publishing.snapshot_publication(world.db, publication_id) == "skipped"
    assert world.get_order(order_id, brand)["deadlines"]["compliance_fix_due_at"] is None
