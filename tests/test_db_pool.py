"""Pooled PostgreSQL connections: pinged only after sitting idle, replaced when dead."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from pappus import db as db_module
from pappus.db import Database


@pytest.fixture
def postgres_db(db: Database, backend: str) -> Database:
    if backend != "postgresql":
        pytest.skip("SQLite has no connections to ping")
    return db


def _statements(database: Database) -> list[str]:
    seen: list[str] = []
    event.listen(
        database.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_a: seen.append(statement),
    )
    return seen


def _kill_pooled_connection(database: Database) -> None:
    """Terminate the server side of the one pooled connection, from another connection."""
    with database.engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    other = Database(database.url)
    try:
        with other.engine.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        other.dispose()


def test_a_connection_in_use_a_moment_ago_is_not_pinged(postgres_db: Database) -> None:
    with postgres_db.unit_of_work() as session:
        session.execute(text("SELECT 1"))
    pings: list[object] = []
    original = postgres_db.engine.dialect.do_ping
    postgres_db.engine.dialect.do_ping = lambda conn: pings.append(conn) or original(conn)  # type: ignore[method-assign]
    with postgres_db.unit_of_work() as session:
        session.execute(text("SELECT 2"))
    assert pings == []


def test_a_dead_idle_connection_is_replaced_before_use(
    postgres_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    _kill_pooled_connection(postgres_db)
    statements = _statements(postgres_db)
    with postgres_db.unit_of_work() as session:
        assert session.execute(text("SELECT 41 + 1")).scalar_one() == 42
    assert statements == ["SELECT 41 + 1"]


def test_a_connection_killed_while_in_use_recently_fails_once_then_recovers(
    postgres_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trade-off of not pinging busy connections: one failed statement, not more."""
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    _kill_pooled_connection(postgres_db)
    with pytest.raises(OperationalError), postgres_db.unit_of_work() as session:
        session.execute(text("SELECT 1"))
    with postgres_db.unit_of_work() as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1
