"""Crashes: a worker SIGKILLed in the middle of moving money leaves nothing half-applied, and
retrying the same operation completes it exactly once.

A child process (tests/ledger/crash_child.py) runs a payout or an escrow release against this
test's database (a SQLite file, or the session's PostgreSQL database) and kills itself after
its writes are flushed but before its transaction commits: after the payout provider answered,
after the payout's hold was posted, after the payout request's hold, after an escrow release's
legs were written, and between the release of the hold and its legs. The test then checks the
book, retries as the periodic job or the timer sweep would, and checks the money moved once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from pappus.db import Database
from pappus.kit.clock import clock
from pappus.ledger import book, payouts
from pappus.ledger import service as ledger
from pappus.ledger.book import platform_revenue_owner
from pappus.ledger.book_models import LedgerTransaction
from pappus.ledger.payment_models import Payout
from pappus.orders import service as orders
from tests.fixtures.builders import Who, World, ok

CHILD = Path(__file__).with_name("crash_child.py")
CHILD_APP_NAME = "pappus-crash-child"
CHILD_TIMEOUT_SECONDS = 120
EARNED = 475_000  # what a completed 500,000 order releases to the creator
MEASURED = timedelta(days=8)  # past the measurement window of a published order


def child_url(db: Database) -> str:
    if db.is_sqlite:
        return db.url
    tagged = make_url(db.url).update_query_dict({"application_name": CHILD_APP_NAME})
    return tagged.render_as_string(hide_password=False)


def wait_until_the_server_noticed(db: Database) -> None:
    """PostgreSQL ends a dead client's session (rolling it back) once it sees the socket
    close; wait for that, so the test's own teardown never queues behind it."""
    if db.is_sqlite:
        return
    query = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with db.engine.connect() as conn:
            if conn.scalar(query, {"name": CHILD_APP_NAME}) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the killed child's PostgreSQL session never ended")


def crash(db: Database, point: str, **args: Any) -> list[str]:
    """Run the child to `point`; it must die there by SIGKILL. Returns what it printed."""
    env = os.environ | {
        "PAPPUS_CRASH_ARGS": json.dumps({"url": child_url(db), "point": point, **args})
    }
    done = subprocess.run(
        [sys.executable, str(CHILD)],
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        cwd=Path(__file__).parents[2],
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, (done.returncode, done.stdout, done.stderr)
    wait_until_the_server_noticed(db)
    return done.stdout.splitlines()


def columns(db: Database, purpose: str, owner_id: str) -> tuple[int, int, int, int]:
    """(debits_pending, debits_posted, credits_pending, credits_posted) of one account."""
    with db.unit_of_work(write=False) as session:
        acc = book.find_account(session, purpose, owner_id, "CNY")
        if acc is None:
            return (0, 0, 0, 0)
        return (acc.debits_pending, acc.debits_posted, acc.credits_pending, acc.credits_posted)


def kinds(db: Database) -> list[str]:
    """The kind of every ledger transaction, in order."""
    with db.unit_of_work(write=False) as session:
        found = session.scalars(select(LedgerTransaction.kind).order_by(LedgerTransaction.id))
        return list(found)


def violations(db: Database) -> list[Any]:
    with db.unit_of_work(write=False) as session:
        return [
            *ledger.check_invariants(session, orders.finished_order_ids(session)),
            *orders.settlement_violations(session),
        ]


# -- payouts --------------------------------------------------------------------------------


def creator_with_matured_earnings(world: World) -> tuple[Who, str]:
    """A creator with 475,000 available for payout, and their verified payout method."""
    _, _, creator = world.to_state("completed")
    clock.advance(MEASURED)
    with world.db.unit_of_work() as session:
        assert payouts.mature_earnings(session) == 1
    method = ok(
        world.client.post(
            "/api/v1/payout-methods",
            json={"kind": "alipay", "holder_name": "Lin", "account_number": "13800138000"},
            headers=creator.headers,
        ),
        201,
    )
    return creator, str(method["id"])


def payout_args(creator: Who, method_id: str, amount: int) -> dict[str, Any]:
    return {
        "user_id": creator.user_id,
        "creator_id": creator.creator_id,
        "payout_method_id": method_id,
        "amount": amount,
    }


@pytest.mark.parametrize(
    ("point", "amount", "outcome"),
    [
        ("payout_after_provider", 400_000, "paid"),
        ("payout_before_commit", 400_000, "paid"),
        ("payout_before_commit", 100_013, "failed"),  # the sandbox bank bounces ...13
    ],
    ids=["killed-after-the-provider-paid", "killed-before-commit", "killed-before-the-return"],
)
def test_a_payout_killed_before_commit_completes_once_on_retry(
    world: World, point: str, amount: int, outcome: str
) -> None:
    db = world.db
    creator, method_id = creator_with_matured_earnings(world)
    assert creator.creator_id is not None
    # given a payout whose worker is killed after the provider answered, before committing
    printed = crash(db, point, **payout_args(creator, method_id, amount))
    payout_id = printed[0].removeprefix("payout ")
    assert printed[1].startswith("provider answered" if "provider" in point else "payout ")
    # then the payout is still processing, its hold still held, and nothing else happened
    with db.unit_of_work(write=False) as session:
        payout = session.get(Payout, payout_id)
        assert payout is not None
        assert (payout.status, payout.provider_ref, payout.settled_at) == ("processing", None, None)
    assert columns(db, "creator_available", creator.creator_id) == (amount, 0, 0, EARNED)
    assert columns(db, "payout_clearing", "sandbox") == (0, 0, amount, 0)
    assert kinds(db)[-1] == "payout_hold"
    assert violations(db) == []
    # when the periodic job finds it processing and retries it, twice
    with db.unit_of_work(write=False) as session:
        assert payouts.processing_payout_ids(session) == [payout_id]
    assert payouts.process_payout(db, payout_id) == outcome
    assert payouts.process_payout(db, payout_id) == outcome
    # then it completed exactly once
    paid = amount if outcome == "paid" else 0
    assert columns(db, "creator_available", creator.creator_id) == (0, paid, 0, EARNED)
    assert columns(db, "payout_clearing", "sandbox") == (0, 0, 0, paid)
    resolution = "payout" if outcome == "paid" else "payout_return"
    assert kinds(db).count(resolution) == 1
    assert kinds(db)[-2:] == ["payout_hold", resolution]
    with db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count(Payout.id))) == 1
        assert session.get(Payout, payout_id).status == outcome  # type: ignore[union-attr]
    assert violations(db) == []


def test_a_payout_request_killed_before_commit_leaves_no_hold(world: World) -> None:
    db = world.db
    creator, method_id = creator_with_matured_earnings(world)
    assert creator.creator_id is not None
    before = kinds(db)
    # given a payout request whose worker dies right after holding the money
    printed = crash(db, "payout_request_after_hold", **payout_args(creator, method_id, 300_000))
    assert printed == ["held 300000, not committed"]
    # then there is no payout and no hold
    with db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count(Payout.id))) == 0
    assert columns(db, "creator_available", creator.creator_id) == (0, 0, 0, EARNED)
    assert kinds(db) == before
    assert violations(db) == []
    # and asking again makes exactly one payout, paid once
    body = {"amount": 300_000, "currency": "CNY", "payout_method_id": method_id}
    payout = ok(world.client.post("/api/v1/payouts", json=body, headers=creator.headers), 201)
    assert payouts.process_payout(db, payout["id"]) == "paid"
    assert columns(db, "creator_available", creator.creator_id) == (0, 300_000, 0, EARNED)
    assert kinds(db) == [*before, "payout_hold", "payout"]
    assert violations(db) == []


# -- escrow release -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("point", "last_words"),
    [
        ("release_after_legs", "released order:"),
        ("release_before_legs", "hold posted, legs to creator and platform not written"),
    ],
    ids=["killed-after-the-legs", "killed-between-release-and-legs"],
)
def test_an_escrow_release_killed_before_commit_settles_once_on_retry(
    world: World, point: str, last_words: str
) -> None:
    db = world.db
    # given a published order whose measurement window is over
    order_id, brand, creator = world.to_state("published")
    assert brand.organization_id is not None and creator.creator_id is not None
    events = ok(world.client.get(f"/api/v1/orders/{order_id}/events", headers=brand.headers))
    before = kinds(db)
    clock.advance(MEASURED)
    # when the timer sweep that completes it is killed in the middle of the release
    printed = crash(db, point, clock_offset_seconds=MEASURED.total_seconds())
    assert printed[-1].startswith(last_words), printed
    # then the order, its events and its escrow are as they were: nothing half-applied
    assert world.get_order(order_id, brand)["state"] == "published"
    again = ok(world.client.get(f"/api/v1/orders/{order_id}/events", headers=brand.headers))
    assert again == events
    assert kinds(db) == before
    assert columns(db, "brand_wallet", brand.organization_id) == (550_000, 0, 0, 100_000_000)
    assert columns(db, "order_escrow", order_id) == (0, 0, 550_000, 0)
    assert columns(db, "creator_pending", creator.creator_id) == (0, 0, 0, 0)
    assert violations(db) == []
    # when the next sweep runs, and another after it
    assert world.sweep() == 1
    assert world.sweep() == 0
    # then the order completed and its escrow was released exactly once
    assert world.get_order(order_id, brand)["state"] == "completed"
    assert kinds(db) == [*before, "escrow_release"]
    assert columns(db, "brand_wallet", brand.organization_id) == (0, 550_000, 0, 100_000_000)
    assert columns(db, "order_escrow", order_id) == (0, 550_000, 0, 550_000)
    assert columns(db, "creator_pending", creator.creator_id) == (0, 0, 0, EARNED)
    assert columns(db, "platform_revenue", platform_revenue_owner(order_id)) == (0, 0, 0, 75_000)
    assert violations(db) == []
