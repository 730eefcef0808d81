"""`pappus ledger check` finds each kind of damage to the book, and only that: a book changed
behind the ledger's back (as a faulty migration or a hand-edited row would) is named by the
rule it breaks."""

from __future__ import annotations

import json
import sqlite3

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from pappus.cli import app as cli
from pappus.jobs import use_database
from pappus.ledger import book, check_repository
from pappus.ledger import service as ledger
from pappus.ledger.book import Leg
from pappus.ledger.check import FinishedOrders, Violation, check_ledger
from tests.fixtures.builders import World

HELD, TO_CREATOR, TO_PLATFORM, TO_BRAND = 100_000, 80_000, 15_000, 5_000


@pytest.fixture
def book_world(world: World) -> tuple[World, str, str]:
    """A funded brand, one order held and released, one order held and still running: the
    organization id and the creator id."""
    brand = world.brand(funded=1_000_000)
    creator_id = "crt_checked"
    for order_id in ("ord_released", "ord_running"):
        with world.db.unit_of_work() as session:
            hold = ledger.EscrowHold(order_id, brand.organization_id, creator_id, "CNY", HELD)
            ledger.place_escrow_hold(session, hold)
    with world.db.unit_of_work() as session:
        split = ledger.EscrowSettlement("ord_released", TO_CREATOR, TO_PLATFORM, TO_BRAND, "test")
        ledger.settle_escrow(session, split)
    return world, brand.organization_id, creator_id


def violations(world: World, finished: FinishedOrders | None = None) -> list[Violation]:
    """What the check finds, with the released order as the finished one unless told."""
    with world.db.unit_of_work(write=False) as session:
        return check_ledger(session, {"ord_released"} if finished is None else finished)


def rules(world: World, finished: set[str] | None = None) -> list[str]:
    return [v.rule for v in violations(world, finished)]


def tamper(world: World, sql: str, **params: object) -> None:
    with world.db.unit_of_work() as session:
        assert session.execute(text(sql), params).rowcount == 1  # type: ignore[attr-defined]


def tamper_unchecked(world: World, sql: str) -> None:
    """Change the book with its foreign keys off, as a hand edit in a database shell can."""
    url = world.db.engine.url
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(str(url.database))  # foreign keys are off by default
        try:
            assert connection.execute(sql).rowcount == 1
            connection.commit()
        finally:
            connection.close()
        return
    with world.db.engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        assert connection.execute(text(sql)).rowcount == 1


def release_leg(purpose: str) -> str:
    """SQL selecting the id of the release's leg paying the account of `purpose`."""
    return (
        "SELECT t.id FROM ledger_transfers t JOIN ledger_accounts a "
        "ON a.id = t.credit_account_id JOIN ledger_transactions x ON x.id = t.transaction_id "
        f"WHERE x.kind = 'escrow_release' AND a.purpose = '{purpose}'"
    )


def test_a_sound_book_has_no_violations_and_counts_its_accounts_and_transfers(
    book_world: tuple[World, str, str],
) -> None:
    world, _, _ = book_world
    assert rules(world) == []
    with world.db.unit_of_work(write=False) as session:
        # wallet, deposit clearing, two escrows, creator pending, one platform revenue account
        # 2 holds, a release of 3 legs and the deposit (world.brand funds by a deposit)
        assert ledger.book_size(session) == (6, 6)


def test_a_balance_column_off_by_one_is_named_and_unbalances_the_books(
    book_world: tuple[World, str, str],
) -> None:
    world, _, creator_id = book_world
    tamper(
        world,
        "UPDATE ledger_accounts SET credits_posted = credits_posted + 1 WHERE owner_id = :o",
        o=creator_id,
    )
    assert rules(world) == ["balance_mismatch", "books_unbalanced"]
    detail = violations(world, set())[0].detail
    assert creator_id in detail
    assert f"credits_posted is {TO_CREATOR + 1}, its transfers say {TO_CREATOR}" in detail


def test_a_pending_column_off_is_found_through_the_hold_it_resolves(
    book_world: tuple[World, str, str],
) -> None:
    world, organization_id, _ = book_world
    tamper(
        world,
        "UPDATE ledger_accounts SET debits_pending = debits_pending - 1 WHERE owner_id = :o",
        o=organization_id,
    )
    assert rules(world) == ["balance_mismatch"]


def test_an_escrow_left_holding_money_matters_only_once_its_order_is_finished(
    book_world: tuple[World, str, str],
) -> None:
    world, _, _ = book_world
    assert rules(world, {"ord_released"}) == []
    assert rules(world, {"ord_released", "ord_running"}) == ["escrow_not_empty"]


def test_a_release_paying_more_than_it_posted_is_named(
    book_world: tuple[World, str, str],
) -> None:
    world, _, _ = book_world
    tamper(
        world,
        f"UPDATE ledger_transfers SET amount = amount + 7 WHERE id = ({release_leg('creator_pending')})",
    )
    found = rules(world)
    assert "release_unbalanced" in found and "balance_mismatch" in found


def test_a_post_of_more_than_the_hold_is_named(book_world: tuple[World, str, str]) -> None:
    world, _, _ = book_world
    tamper(
        world,
        "UPDATE ledger_transfers SET amount = :too_much WHERE kind = 'post_pending'",
        too_much=HELD + 1,
    )
    assert rules(world)[0] == "hold_overposted"


def test_a_transfer_in_another_currency_than_its_accounts_is_named(
    book_world: tuple[World, str, str],
) -> None:
    world, _, _ = book_world
    tamper(
        world,
        f"UPDATE ledger_transfers SET currency = 'USD' WHERE id = ({release_leg('platform_revenue')})",
    )
    assert rules(world) == ["currency_mismatch"]


def test_a_creator_debited_by_anything_but_a_payout_or_maturity_is_named(
    book_world: tuple[World, str, str],
) -> None:
    world, _, creator_id = book_world
    with world.db.unit_of_work() as session:
        pending = book.account_id(session, "creator_pending", creator_id, "CNY")
        revenue = book.account_id(session, "platform_revenue", book.PLATFORM_OWNER, "CNY")
        book.post(session, "fee", "fee:taken-from-a-creator", [Leg(pending, revenue, 1_000)])
    found = violations(world)
    assert [v.rule for v in found] == ["creator_debited"]
    assert "(fee)" in found[0].detail


def test_the_command_lists_every_violation_or_prints_json(
    book_world: tuple[World, str, str],
) -> None:
    world, organization_id, creator_id = book_world
    use_database(world.db)
    runner = CliRunner()
    sound = runner.invoke(cli, ["ledger", "check"])
    assert sound.exit_code == 0, sound.output
    assert "ledger ok: 6 accounts, 6 transfers, every invariant holds" in sound.output
    for owner in (organization_id, creator_id):
        tamper(
            world,
            "UPDATE ledger_accounts SET credits_posted = credits_posted + 1 WHERE owner_id = :o",
            o=owner,
        )
    first = runner.invoke(cli, ["ledger", "check"])
    assert first.exit_code == 1
    assert first.output.count("VIOLATION balance_mismatch") == 1
    assert "... and 2 more (--all lists them)" in first.output
    every = runner.invoke(cli, ["ledger", "check", "--all"])
    assert every.exit_code == 1
    assert every.output.count("VIOLATION balance_mismatch") == 2
    assert "VIOLATION books_unbalanced: CNY balances sum to 2, not zero" in every.output
    as_json = runner.invoke(cli, ["ledger", "check", "--json"])
    assert as_json.exit_code == 1
    result = json.loads(as_json.stdout)
    assert result["ok"] is False and (result["accounts"], result["transfers"]) == (6, 6)
    assert [v["rule"] for v in result["violations"]] == [
        "balance_mismatch",
        "balance_mismatch",
        "books_unbalanced",
    ]


HOLD_OF_RELEASED = (
    "SELECT t.id FROM ledger_transfers t JOIN ledger_transactions x ON x.id = t.transaction_id "
    "WHERE x.reference = 'order:ord_released:hold'"
)
HOLD_OF_RUNNING = HOLD_OF_RELEASED.replace("ord_released", "ord_running")


def test_a_post_whose_hold_was_deleted_is_named(book_world: tuple[World, str, str]) -> None:
    # the hold's +100,000 and the post's -100,000 on the pending columns vanish together,
    # so the balances still agree: only the resolution itself shows the damage
    world, _, _ = book_world
    tamper_unchecked(world, f"DELETE FROM ledger_transfers WHERE id = ({HOLD_OF_RELEASED})")
    found = violations(world)
    assert [v.rule for v in found] == ["bad_resolution"]
    assert "which does not exist" in found[0].detail


def test_a_post_that_misstates_the_hold_it_resolves_is_named(
    book_world: tuple[World, str, str],
) -> None:
    world, _, _ = book_world
    tamper(world, "UPDATE ledger_transfers SET pending_amount = 1 WHERE kind = 'post_pending'")
    found = violations(world)
    assert [v.rule for v in found] == ["bad_resolution"]
    assert "says the hold was 1, " in found[0].detail and f"held {HELD}" in found[0].detail


def test_a_posted_transfer_claiming_to_resolve_a_hold_is_named(
    book_world: tuple[World, str, str],
) -> None:
    world, _, _ = book_world
    tamper(
        world,
        f"UPDATE ledger_transfers SET resolves_id = ({HOLD_OF_RUNNING}) "
        f"WHERE id = ({release_leg('creator_pending')})",
    )
    assert "bad_resolution" in rules(world)


def test_a_transfer_of_an_unknown_kind_is_named(book_world: tuple[World, str, str]) -> None:
    world, _, _ = book_world
    tamper(
        world,
        f"UPDATE ledger_transfers SET kind = 'POSTED' WHERE id = ({release_leg('platform_revenue')})",
    )
    # and the release no longer adds up, as its leg to the platform is not `posted` any more
    assert rules(world) == ["unknown_transfer_kind", "release_unbalanced"]


def test_a_transfer_without_its_transaction_is_named(book_world: tuple[World, str, str]) -> None:
    world, _, _ = book_world
    tamper_unchecked(
        world,
        "UPDATE ledger_transfers SET transaction_id = 'ltx_missing' "
        f"WHERE id = ({release_leg('creator_pending')})",
    )
    assert "dangling_transaction" in rules(world)


def test_finished_orders_can_be_asked_about_in_batches(
    book_world: tuple[World, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, _, _ = book_world
    monkeypatch.setattr(check_repository, "ESCROW_BATCH", 1)
    asked: list[list[str]] = []

    def finished(order_ids: list[str]) -> set[str]:
        asked.append(order_ids)
        return {"ord_running"} & set(order_ids)

    found = violations(world, finished)
    assert [v.rule for v in found] == ["escrow_not_empty"]
    assert (
        found[0].detail
        == f"order ord_running finished with 0 posted and {HELD} on hold in its escrow"
    )
    assert asked == [["ord_running"]]  # only the escrows that still hold money


def test_the_command_names_a_finished_order_whose_escrow_still_holds_money(
    world: World,
) -> None:
    order_id, _, _ = world.order()
    use_database(world.db)
    assert CliRunner().invoke(cli, ["ledger", "check"]).exit_code == 0
    # an order marked cancelled behind the workflow's back, its escrow never refunded
    tamper(world, "UPDATE orders SET state = 'cancelled' WHERE id = :o", o=order_id)
    result = CliRunner().invoke(cli, ["ledger", "check"])
    assert result.exit_code == 1
    assert f"VIOLATION escrow_not_empty: order {order_id} finished with" in result.output
