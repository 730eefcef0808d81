"""Pooled PostgreSQL connections: pinged only after sitting idle, replaced when dead; and
statements sent by psycopg itself."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, event, literal_column, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from pappus import db as db_module
from pappus.db import Database, execute_on_driver, postgresql_sql
from pappus.kit.clock import now


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


# -- statements psycopg sends itself (pappus.db.execute_on_driver) -----------------------------


def test_a_driver_statement_runs_in_the_sessions_transaction(postgres_db: Database) -> None:
    with pytest.raises(RuntimeError), postgres_db.unit_of_work() as session:
        session.execute(text("CREATE TEMP TABLE t (n int PRIMARY KEY) ON COMMIT PRESERVE ROWS"))
        assert (
            execute_on_driver(session, "INSERT INTO t VALUES (%(n)s)", [{"n": 1}, {"n": 2}]) == []
        )
        assert execute_on_driver(session, "SELECT sum(n) FROM t", {}) == [(3,)]
        raise RuntimeError("roll the whole unit of work back")
    with postgres_db.unit_of_work() as session:  # the temp table went with the rollback
        assert execute_on_driver(session, "SELECT to_regclass('pg_temp.t')", {}) == [(None,)]


def test_a_driver_statement_raises_sqlalchemys_errors(postgres_db: Database) -> None:
    """What the API's error handlers and the services catch: IntegrityError, not psycopg's."""
    with pytest.raises(IntegrityError) as raised, postgres_db.unit_of_work() as session:
        execute_on_driver(session, "CREATE TEMP TABLE u (n int PRIMARY KEY)", {})
        execute_on_driver(session, "INSERT INTO u VALUES (%(n)s), (%(n)s)", {"n": 7})
    assert "duplicate key" in str(raised.value)
    assert raised.value.statement == "INSERT INTO u VALUES (%(n)s), (%(n)s)"
    with postgres_db.unit_of_work() as session:  # the session and its connection are usable
        assert execute_on_driver(session, "SELECT 2", {}) == [(2,)]


def test_a_lost_connection_under_a_driver_statement_is_replaced(
    postgres_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    _kill_pooled_connection(postgres_db)
    with pytest.raises(OperationalError) as raised, postgres_db.unit_of_work() as session:
        execute_on_driver(session, "SELECT 1", {})
    assert raised.value.connection_invalidated
    with postgres_db.unit_of_work() as session:
        assert execute_on_driver(session, "SELECT 1", {}) == [(1,)]


def test_a_core_statement_compiles_once_with_its_own_literals() -> None:
    statement = select(literal_column("n")).where(literal_column("kind") == "pending")
    sql, fixed = postgresql_sql(statement)
    assert postgresql_sql(statement)[0] is sql
    assert list(fixed.values()) == ["pending"]
    assert f"%({next(iter(fixed))})s" in sql


def test_a_driver_statement_sees_pending_orm_changes(postgres_db: Database) -> None:
    """As `Session.execute` does, pending ORM changes are flushed before the statement."""
    from pappus.ledger.book_models import LedgerAccount

    with pytest.raises(RuntimeError), postgres_db.unit_of_work() as session:
        session.add(
            LedgerAccount(
                id="acc_flushed_first",
                owner_kind="organization",
                owner_id="org_flushed_first",
                purpose="brand_wallet",
                currency="CNY",
                debits_must_not_exceed_credits=True,
                debits_pending=0,
                debits_posted=0,
                credits_pending=0,
                credits_posted=0,
                created_at=now(),
            )
        )
        found = execute_on_driver(
            session,
            "SELECT owner_id FROM ledger_accounts WHERE id = %(id)s",
            {"id": "acc_flushed_first"},
        )
        assert found == [("org_flushed_first",)]
        raise RuntimeError("leave nothing behind")


def test_a_driver_statement_in_a_rolled_back_savepoint_is_undone(postgres_db: Database) -> None:
    with pytest.raises(RuntimeError), postgres_db.unit_of_work() as session:
        execute_on_driver(session, "CREATE TEMP TABLE s (n int)", {})
        execute_on_driver(session, "INSERT INTO s VALUES (1)", {})
        savepoint = session.begin_nested()
        execute_on_driver(session, "INSERT INTO s VALUES (2)", {})
        savepoint.rollback()
        assert execute_on_driver(session, "SELECT array_agg(n) FROM s", {}) == [([1],)]
        raise RuntimeError("leave nothing behind")


def test_a_server_gone_under_a_driver_statement_fails_one_statement_not_one_per_connection(
    postgres_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As SQLAlchemy does, the first lost connection retires the whole pool: the others were
    checked in a moment ago and are not pinged, so each would otherwise fail in turn."""
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    first, second = postgres_db.session(), postgres_db.session()
    try:
        pids = [execute_on_driver(s, "SELECT pg_backend_pid()", {})[0][0] for s in (first, second)]
        first.commit()
        second.commit()
    finally:
        first.close()
        second.close()
    assert len(set(pids)) == 2
    other = Database(postgres_db.url)
    try:
        with other.unit_of_work() as session:
            for pid in pids:
                session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        other.dispose()
    with pytest.raises(OperationalError), postgres_db.unit_of_work() as session:
        execute_on_driver(session, "SELECT 1", {})
    for _ in range(2):
        with postgres_db.unit_of_work() as session:
            assert execute_on_driver(session, "SELECT 1", {}) == [(1,)]


def test_an_interrupted_driver_statement_retires_its_connection(
    postgres_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    with postgres_db.unit_of_work() as session:
        connection = session.connection()
        monkeypatch.setattr(psycopg.Cursor, "execute", interrupted)
        with pytest.raises(KeyboardInterrupt):
            execute_on_driver(session, "SELECT 1", {})
        assert connection.invalidated
        monkeypatch.undo()
        session.rollback()
    with postgres_db.unit_of_work() as session:
        assert execute_on_driver(session, "SELECT 1", {}) == [(1,)]


def test_a_statement_whose_text_depends_on_its_values_is_refused() -> None:
    expanding = select(literal_column("n")).where(
        literal_column("n").in_(bindparam("ns", expanding=True))
    )
    with pytest.raises(ValueError, match="not a fixed statement"):
        postgresql_sql(expanding)


def test_with_another_postgresql_driver_a_driver_statement_goes_through_sqlalchemy(
    postgres_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The psycopg-only path is not taken for another driver; the statement still runs, and
    SQLAlchemy's events see it."""
    monkeypatch.setattr(postgres_db.engine.dialect, "driver", "another")
    statements = _statements(postgres_db)
    with postgres_db.unit_of_work() as session:
        assert execute_on_driver(session, "SELECT %(n)s::int + 1", {"n": 41}) == [(42,)]
        assert execute_on_driver(session, "CREATE TEMP TABLE f (n int)", {}) == []
    assert statements == ["SELECT %(n)s::int + 1", "CREATE TEMP TABLE f (n int)"]


def test_execute_prebuilt_converts_values_by_type_on_both_backends(db: Database) -> None:
    """JSON and UTCDateTime values are converted as SQLAlchemy would (psycopg alone would
    refuse a dict and store a naive time); a conflict and a DML without RETURNING give no
    rows."""
    from pappus.kit.idempotency import IdempotencyRecord

    table = IdempotencyRecord.__table__
    insert = db_module.insert_unless_taken(table, ["scope", "key"])  # type: ignore[arg-type]
    row = {
        "id": "idk_prebuilt",
        "scope": "usr_x",
        "key": "k1",
        "method": "POST",
        "path": "/x",
        "request_hash": "0" * 64,
        "response_status": 201,
        "response_body": {"order": {"id": "ord_1", "tags": ["a", None, True]}},
        "created_at": now(),
    }
    with db.unit_of_work() as session:
        dialect = session.get_bind().dialect.name
        assert db_module.execute_prebuilt(session, insert[dialect], row) == [("idk_prebuilt",)]
        assert db_module.execute_prebuilt(session, insert[dialect], {**row, "id": "idk_2"}) == []
        touch = table.update().where(table.c.id == bindparam("rid")).values(path="/y")
        assert db_module.execute_prebuilt(session, touch, {"rid": "idk_prebuilt"}) == []
    with db.unit_of_work() as session:
        stored = session.get(IdempotencyRecord, "idk_prebuilt")
        assert stored is not None and stored.path == "/y"
        assert stored.response_body == row["response_body"]
        assert stored.created_at == row["created_at"]
    with db.unit_of_work() as session, pytest.raises(Exception, match="naive datetimes"):
        naive = {**row, "id": "idk_3", "key": "k3", "created_at": now().replace(tzinfo=None)}
        db_module.execute_prebuilt(session, insert[session.get_bind().dialect.name], naive)


def test_full_row_completes_defaults_and_refuses_what_it_cannot_fill() -> None:
    """Every column: a given value stays, a Python default is taken (a function called
    anew each time), the rest are NULL; a key that is no column and a column with a
    server-side default are refused rather than dropped or overwritten with NULL."""
    from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, text

    counter = iter(range(100))
    table = Table(
        "t",
        MetaData(),
        Column("id", String, primary_key=True, default=lambda: f"id{next(counter)}"),
        Column("n", Integer, default=7),
        Column("note", String),
        Column("doc", JSON),
    )
    given = db_module.full_row(table, {"note": "x"})
    assert given == {"id": "id0", "n": 7, "note": "x", "doc": db_module.SQL_NULL}
    assert db_module.full_row(table, {"id": "mine", "n": 0, "doc": {"a": 1}}) == {
        "id": "mine",
        "n": 0,
        "note": None,
        "doc": {"a": 1},
    }
    assert db_module.full_row(table, {})["id"] == "id1"
    with pytest.raises(ValueError, match="no columns \\['nte'\\]"):
        db_module.full_row(table, {"nte": "x"})
    served = Table(
        "s", MetaData(), Column("id", String), Column("at", String, server_default=text("now()"))
    )
    with pytest.raises(ValueError, match=r"s\.at has a server default"):
        db_module.full_row(served, {"id": "a"})
    assert db_module.full_row(served, {"id": "a", "at": "then"}) == {"id": "a", "at": "then"}


def _connects(database: Database) -> list[object]:
    made: list[object] = []
    event.listen(database.engine, "connect", lambda conn, _record: made.append(conn))
    return made


def test_the_pool_keeps_as_many_connections_as_the_settings_say(db: Database) -> None:
    """Eight requests at a time, twice: with a pool of eight the second round connects no
    more. (SQLAlchemy's default pool of five closes three overflow connections after each
    round and opens three anew: on PostgreSQL a server process each, with none of its
    statements prepared.)"""
    from pappus.config import Settings

    pooled = Database.from_settings(
        Settings(database_url=db.url, db_pool_size=8, db_max_overflow=2)
    )
    try:
        made = _connects(pooled)
        for _ in range(2):
            held = [pooled.engine.connect() for _ in range(8)]
            for conn in held:
                conn.execute(select(1))
            for conn in held:
                conn.close()
        assert len(made) == 8
        assert pooled.engine.pool.size() == 8  # type: ignore[attr-defined]
        # a burst past the size opens overflow connections, up to the overflow setting
        held = [pooled.engine.connect() for _ in range(10)]
        assert len(made) == 10
        for conn in held:
            conn.close()
    finally:
        pooled.dispose()


def test_the_app_takes_its_pool_size_from_the_settings(db: Database) -> None:
    from pappus.app import create_app
    from pappus.config import Settings

    settings = Settings(database_url=db.url, db_pool_size=3, db_max_overflow=1)
    app = create_app(settings, migrate_on_start=False, run_jobs=False)
    try:
        pool = app.state.db.engine.pool
        assert (pool.size(), pool._max_overflow) == (3, 1)
    finally:
        app.state.db.dispose()


def test_an_in_memory_sqlite_database_takes_the_settings_too() -> None:
    from pappus.config import Settings

    for url in ("sqlite://", "sqlite:///:memory:"):
        memory = Database.from_settings(Settings(database_url=url))
        try:
            with memory.engine.connect() as conn:
                assert conn.execute(select(1)).scalar_one() == 1
        finally:
            memory.dispose()
