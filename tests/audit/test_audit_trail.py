"""The platform's audit trail: what gets recorded, that a rollback records nothing, that
concurrent writers get one unbroken chain, and that `verify` names the first entry that was
edited, deleted or reordered."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from pappus.audit import service as audit
from pappus.cli import app as cli
from pappus.db import Database
from tests.fixtures.builders import World, ok


def _actions(world: World, who: Any, **filters: Any) -> list[str]:
    page = ok(
        world.client.get("/api/v1/audit", params={"limit": 100, **filters}, headers=who.headers)
    )
    return [e["action"] for e in page["items"]]


def test_order_steps_money_rule_packs_vetting_and_personal_data_reads_are_recorded(
    world: World,
) -> None:
    order_id, brand, creator = world.order()
    draft_id = world.submit_draft(order_id, creator)
    world.approve(order_id, draft_id, brand)
    staff = world.staff()
    ok(world.client.get(f"/api/v1/creators/{creator.creator_id}", headers=brand.headers))
    ok(
        world.client.post(
            f"/api/v1/creators/{creator.creator_id}/vetting/decisions",
            json={"decision": "flag", "reason": "follower spike last week"},
            headers=staff.headers,
        ),
        201,
    )
    order_actions = _actions(world, staff, subject_kind="order", subject_id=order_id)
    assert order_actions == ["order.approve_draft", "order.submit_draft", "order.create_order"]
    money = _actions(world, staff, action="ledger.")
    assert len(money) >= 2  # the brand's deposit and the order's escrow hold
    assert "deposit.succeeded" in _actions(world, staff, action="deposit.")
    assert "application.accepted" in _actions(world, staff, action="application.")
    reads = ok(
        world.client.get(
            "/api/v1/audit",
            params={"action": "personal_data.read", "subject_id": creator.creator_id},
            headers=staff.headers,
        )
    )
    assert [(e["actor_id"], e["actor_kind"]) for e in reads["items"]] == [(brand.user_id, "brand")]
    assert "vetting.flag" in _actions(world, staff, subject_id=creator.creator_id)
    # Entries are written unsealed and chained by the periodic job.
    staff_admin = world.staff("admin")
    waiting = ok(world.client.get("/api/v1/audit/verify", headers=staff_admin.headers))
    assert waiting["ok"] is True and waiting["unsealed"] > 0
    assert audit.seal_all(world.db) == waiting["unsealed"]
    sealed = ok(world.client.get("/api/v1/audit/verify", headers=staff_admin.headers))
    assert sealed == {
        "ok": True,
        "entries": waiting["entries"] + waiting["unsealed"],
        "problem": None,
        "first_bad_sequence": None,
        "unsealed": 0,
    }


def test_the_trail_is_for_staff_and_pages_newest_first(world: World) -> None:
    world.order()
    brand = world.brand(funded=0)
    assert world.client.get("/api/v1/audit", headers=brand.headers).status_code == 403
    assert world.client.get("/api/v1/audit/verify", headers=brand.headers).status_code == 403
    staff = world.staff()
    first = ok(world.client.get("/api/v1/audit?limit=2", headers=staff.headers))
    second = ok(
        world.client.get(
            f"/api/v1/audit?limit=2&cursor={first['next_cursor']}", headers=staff.headers
        )
    )
    numbers = [e["id"] for e in first["items"] + second["items"]]
    assert numbers == sorted(numbers, reverse=True) and len(set(numbers)) == 4
    bad = world.client.get("/api/v1/audit?cursor=bm9wZV94", headers=staff.headers)
    assert bad.status_code == 422


def test_a_rolled_back_transaction_or_savepoint_records_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError), db.unit_of_work() as session:
        audit.record(session, "test.rolled_back", "thing", "t1")
        raise RuntimeError("boom")
    with db.unit_of_work() as session:
        audit.record(session, "test.kept", "thing", "t2")
        try:
            with session.begin_nested():
                audit.record(session, "test.savepoint_rolled_back", "thing", "t3")
                raise ValueError("inner")
        except ValueError:
            pass
        audit.record(session, "test.kept_after", "thing", "t4")
    with db.unit_of_work(write=False) as session:
        found = [
            e.action for e in audit.entries_about(session, [("thing", f"t{i}") for i in range(5)])
        ]
        assert found == ["test.kept", "test.kept_after"]
        assert audit.verify(session).ok


def test_many_entries_of_one_transaction_keep_their_order_and_values(db: Database) -> None:
    """More entries than one INSERT takes: all written, numbered in the order recorded, each
    row's JSON data and time converted (not only the first row's), and the chain seals."""
    from pappus.audit.models import AuditEntry

    with db.unit_of_work() as session:
        for n in range(45):
            audit.record(session, "test.many", "thing", f"m{n}", data={"n": n, "tags": ["a"]})
    with db.unit_of_work(write=False) as session:
        rows = session.query(AuditEntry).filter(AuditEntry.action == "test.many").all()
        rows.sort(key=lambda e: e.id)
        assert [e.subject_id for e in rows] == [f"m{n}" for n in range(45)]
        assert [e.data for e in rows] == [{"n": n, "tags": ["a"]} for n in range(45)]
        assert all(e.at.tzinfo is not None for e in rows)
    with db.unit_of_work() as session:
        audit.seal(session)
    with db.unit_of_work(write=False) as session:
        assert audit.verify(session).ok


def test_concurrent_writers_build_one_unbroken_chain(db: Database) -> None:
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for n in range(15):
                with db.unit_of_work() as session:
                    audit.record(session, "test.concurrent", "worker", f"w{worker}", data={"n": n})
                    audit.record(session, "test.concurrent", "worker", f"w{worker}", data={"n": -n})
        except BaseException as exc:  # reported below
            errors.append(exc)

    def seal() -> None:
        try:
            for _ in range(10):
                audit.seal_all(db)
        except BaseException as exc:  # reported below
            errors.append(exc)

    # Six writers and two sealers at once, as several workers would run them.
    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    threads += [threading.Thread(target=seal) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    audit.seal_all(db)
    with db.unit_of_work(write=False) as session:
        result = audit.verify(session)
    assert result.ok and result.entries == 6 * 15 * 2 and result.unsealed == 0


def _trail(db: Database, n: int = 6) -> None:
    for i in range(n):
        with db.unit_of_work() as session:
            audit.record(session, "test.step", "thing", f"x{i}", data={"i": i})
    audit.seal_all(db)


def _verify(db: Database) -> audit.Verification:
    with db.unit_of_work(write=False) as session:
        return audit.verify(session)


@pytest.mark.parametrize(
    ("tamper", "first_bad", "words"),
    [
        ("UPDATE audit_entries SET subject_id = 'y' WHERE sequence = 3", 3, "changed after"),
        ("DELETE FROM audit_entries WHERE sequence = 4", 4, "missing"),
        ("DELETE FROM audit_entries WHERE sequence = 6", 6, "deleted from the end"),
    ],
)
def test_verify_names_the_first_edited_or_deleted_entry(
    db: Database, tamper: str, first_bad: int, words: str
) -> None:
    _trail(db)
    assert _verify(db).ok
    with db.engine.begin() as conn:
        conn.execute(text(tamper))
    result = _verify(db)
    assert not result.ok and result.first_bad_sequence == first_bad
    assert words in (result.problem or "")


def test_verify_catches_two_entries_swapped(db: Database) -> None:
    _trail(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET sequence = 100 WHERE sequence = 2"))
        conn.execute(text("UPDATE audit_entries SET sequence = 2 WHERE sequence = 3"))
        conn.execute(text("UPDATE audit_entries SET sequence = 3 WHERE sequence = 100"))
    result = _verify(db)
    assert not result.ok and result.first_bad_sequence == 2
    assert "reordered" in (result.problem or "")


def test_the_cli_exits_one_on_a_broken_chain(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    _trail(db, 3)
    monkeypatch.setenv(
        "PAPPUS_DATABASE_URL", str(db.engine.url.render_as_string(hide_password=False))
    )
    from pappus import jobs

    monkeypatch.setattr(jobs, "database", lambda: db)
    runner = CliRunner()
    assert runner.invoke(cli, ["audit", "verify"]).exit_code == 0
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET action = 'test.forged' WHERE sequence = 2"))
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1 and "entry 2" in result.output


def test_membership_and_api_key_changes_are_recorded(world: World) -> None:
    owner = world.brand(funded=0)
    member = world.member(owner, "member")
    world.api_key(owner, ["orders:read"])
    ok(
        world.client.patch(
            f"/api/v1/organizations/{owner.organization_id}/members/{member.user_id}",
            json={"role": "viewer"},
            headers=owner.headers,
        )
    )
    staff = world.staff()
    actions = _actions(world, staff, subject_id=owner.organization_id)
    assert actions == [
        "organization.member_role_changed",
        "organization.api_key_created",
        "organization.member_added",
    ]
    assert "staff.created" in _actions(world, staff, action="staff.")
