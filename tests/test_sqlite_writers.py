"""SQLite writers of one process take turns on a lock before BEGIN IMMEDIATE, so a waiting
writer is woken when the last one finishes instead of sleeping in SQLite's busy handler.

Each test gives SQLite a busy timeout of 0: a writer that reached SQLite while another held
the write lock would fail at once with "database is locked"."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import event, text

from pappus import db as db_module
from pappus.db import Database


@pytest.fixture
def impatient(db: Database, backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    if backend != "sqlite":
        pytest.skip("PostgreSQL has row locks, not one writer at a time")
    # A turn never given back would make the next writer wait this long, then go to SQLite.
    monkeypatch.setattr(db_module, "SQLITE_WRITER_TURN_SECONDS", 2.0)
    database = Database(db.url)

    @event.listens_for(database.engine, "connect")
    def _no_busy_wait(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    with database.unit_of_work() as session:
        session.execute(text("CREATE TABLE writer_turns (who TEXT)"))
    yield database
    database.dispose()


def _writer_holding_the_lock(
    database: Database, who: str
) -> tuple[threading.Thread, threading.Event]:
    """A thread that begins a write, says so, and commits only when told to."""
    began, finish = threading.Event(), threading.Event()

    def write() -> None:
        with database.unit_of_work() as session:
            session.execute(text("INSERT INTO writer_turns VALUES (:who)"), {"who": who})
            began.set()
            finish.wait(10)

    thread = threading.Thread(target=write)
    thread.start()
    assert began.wait(10)
    return thread, finish


def _write(database: Database, who: str) -> None:
    with database.unit_of_work() as session:
        session.execute(text("INSERT INTO writer_turns VALUES (:who)"), {"who": who})


def _writers(database: Database) -> list[str]:
    with database.unit_of_work(write=False) as session:
        return list(session.scalars(text("SELECT who FROM writer_turns ORDER BY rowid")))


def test_a_second_writer_waits_for_its_turn_instead_of_failing(impatient: Database) -> None:
    holder, finish = _writer_holding_the_lock(impatient, "first")
    outcome: list[BaseException | None] = []

    def second() -> None:
        try:
            _write(impatient, "second")
            outcome.append(None)
        except BaseException as exc:  # the failure is the result
            outcome.append(exc)

    waiter = threading.Thread(target=second)
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive(), outcome  # waiting for its turn, not failed nor done
    finish.set()
    holder.join(10)
    waiter.join(10)
    assert outcome == [None]
    assert _writers(impatient) == ["first", "second"]


def test_the_turn_is_given_back_after_a_rollback(impatient: Database) -> None:
    with pytest.raises(RuntimeError), impatient.unit_of_work() as session:
        session.execute(text("INSERT INTO writer_turns VALUES ('rolled back')"))
        raise RuntimeError("the request failed")
    holder, finish = _writer_holding_the_lock(impatient, "next")
    threading.Timer(0.5, finish.set).start()
    _write(impatient, "after")  # would find the turn lost, then SQLite locked
    holder.join(10)
    assert _writers(impatient) == ["next", "after"]


def test_readers_do_not_wait_for_a_writer(impatient: Database) -> None:
    holder, finish = _writer_holding_the_lock(impatient, "writing")
    try:
        assert _writers(impatient) == []  # WAL: the reader sees the last commit at once
    finally:
        finish.set()
        holder.join(10)
