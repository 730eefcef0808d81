"""Engine, session factory, naming convention and the request-scoped session."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy import (
    JSON,
    ColumnDefault,
    DateTime,
    Engine,
    MetaData,
    Table,
    bindparam,
    create_engine,
    event,
    null,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from pappus.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use pappus.kit.clock.now()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
        list[str]: JSON(),
    }


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and explicit transaction control.

    `pool_size` and `max_overflow` are dropped when the pool SQLAlchemy picks for the URL is
    not a sized one (an in-memory SQLite database keeps one connection per thread)."""
    if "poolclass" not in kwargs:
        parsed = make_url(url)
        dialect = cast(type[DefaultDialect], parsed.get_dialect())  # every shipped dialect
        if not issubclass(dialect.get_pool_class(parsed), QueuePool):
            kwargs = {k: v for k, v in kwargs.items() if k not in ("pool_size", "max_overflow")}
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, **kwargs)
    _ping_after_idle(engine)
    return engine


# A pooled connection that came back less than this long ago is handed out without a ping.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_after_idle(engine: Engine) -> None:
    """Ping a pooled connection at checkout only when it has sat idle, and replace it when the
    ping fails (a restarted or failed-over server).

    SQLAlchemy's `pool_pre_ping` pings at every checkout: one more round trip for every unit
    of work and every request, about a tenth of an escrow operation's. A connection returned
    less than a second ago is almost always alive; if the server went away in that second,
    the first statement fails with a disconnect, SQLAlchemy invalidates the whole pool, and
    the next checkout connects afresh.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if getattr(dbapi_connection, "closed", False):
            raise DisconnectionError("the pooled connection was closed")
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE_SECONDS:
            return  # fresh from connect, or in use a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:  # e.g. terminated by the server
            raise DisconnectionError("the pooled connection failed its ping") from exc
        if not alive:
            raise DisconnectionError("the pooled connection did not answer a ping")


# How long a writer waits for this process's turn before it falls back to SQLite's own busy
# handler (as a writer of another process always does).
SQLITE_WRITER_TURN_SECONDS = 30.0


def _configure_sqlite(engine: Engine) -> None:
    # Writers of this process take turns on a lock before BEGIN IMMEDIATE. Without it, a writer
    # that finds the database locked sleeps in SQLite's busy handler, in growing steps of up
    # to 100 ms, and may miss many turns: under 8 concurrent writers the p99 reached seconds.
    # The lock wakes the next writer as soon as the last one's connection is back in the pool.
    # It orders only this process; other processes still meet SQLite's lock and busy_timeout.
    writer_turn = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy own BEGIN so that writers can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if ":memory:" not in str(engine.url):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writing transaction takes SQLite's write lock at BEGIN; otherwise a read that
        # later writes can fail with SQLITE_BUSY once another writer has committed.
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        if immediate:
            record = conn.connection.info  # the pooled connection's, kept until check-in
            if not record.get("writer_turn") and writer_turn.acquire(
                timeout=SQLITE_WRITER_TURN_SECONDS
            ):
                record["writer_turn"] = True
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    @event.listens_for(engine, "checkin")
    def _pass_the_turn(_dbapi_connection: Any, record: Any) -> None:
        # Check-in follows the commit or rollback (the pool's reset rolls back what is left).
        if record.info.pop("writer_turn", False):
            writer_turn.release()


# -- statements sent by the driver itself ----------------------------------------------------
#
# SQLAlchemy's execution path (execution context, events, result set-up) costs about 40 µs of
# CPU per statement, as much as psycopg's own work. On the money path every escrow operation
# sends four or five statements, and at a thousand operations a second on two cores that
# overhead alone is a tenth of the machine. The ledger's and the audit trail's hottest
# PostgreSQL statements therefore go to psycopg directly, on the session's own connection and
# inside its transaction; everything else, and all of SQLite, keeps to SQLAlchemy.


def execute_on_driver(
    session: Session, sql: str, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
) -> list[tuple[Any, ...]]:
    """Run `sql` (`%(name)s` style) on the session's psycopg connection, in its transaction,
    and return the rows (none for a statement without a result). A sequence of several
    mappings runs the statement once for each (psycopg's executemany) and returns no rows.

    It behaves as `Session.execute` does where it matters: pending ORM changes are flushed
    first (unless autoflush is off; not for use inside a flush); errors come out as
    SQLAlchemy's exception classes (`IntegrityError`, `OperationalError`, ...); a lost
    connection retires the whole pool, as SQLAlchemy does, so the connections checked in a
    moment ago, never pinged, are not handed out dead one after another; an interrupt in the
    middle of a statement retires the connection. `before_cursor_execute` listeners do not see
    these statements. With another PostgreSQL driver it goes through SQLAlchemy after all.
    """
    if session.autoflush:
        session.flush()
    connection = session.connection()
    dialect = connection.dialect
    if dialect.driver != "psycopg":
        sent = connection.exec_driver_sql(
            sql, params if isinstance(params, Mapping) else list(params)
        )
        return [tuple(row) for row in sent] if sent.returns_rows else []
    cursor = None
    try:
        cursor = connection.connection.cursor()
        if isinstance(params, Mapping):
            cursor.execute(sql, params)
        elif len(params) == 1:
            # As SQLAlchemy does. executemany enters pipeline mode: 34 to 38 us of CPU for one
            # row against 18 to 28, and under 8 client threads its loop held the GIL for a
            # quarter of the bench's samples.
            cursor.execute(sql, params[0])
        else:
            cursor.executemany(sql, params)
        # Whether there are rows, from the result's field count: `cursor.description` builds a
        # column object per field: 7% of py-spy's samples of the service-layer bench.
        result = cursor.pgresult
        return list(cursor.fetchall()) if result is not None and result.nfields else []
    except dialect.loaded_dbapi.Error as exc:
        lost = dialect.is_disconnect(exc, connection.connection, cursor)
        if lost:
            connection.invalidate(exc)
            # The server went away for every connection, not only this one: the pool's
            # others are closed and replaced (SQLAlchemy invalidates the pool's generation).
            connection.engine.dispose()
        raise DBAPIError.instance(
            sql,
            params,
            exc,
            dialect.loaded_dbapi.Error,
            connection_invalidated=lost,
            dialect=dialect,
        ) from exc
    except BaseException as exc:
        if not isinstance(exc, Exception):  # interrupted mid-statement: the state is unknown
            connection.invalidate(exc)
        raise
    finally:
        if cursor is not None:
            cursor.close()


_PSYCOPG = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]


@functools.cache
def _compiled_for_psycopg(
    statement: ClauseElement,
) -> tuple[str, Mapping[str, Any], Mapping[str, Callable[[Any], Any]]]:
    compiled = statement.compile(dialect=_PSYCOPG)
    sql = str(compiled)
    if "POSTCOMPILE" in sql:  # an expanding IN list, or an empty one: rendered per call
        raise ValueError(f"not a fixed statement, its text depends on its values: {sql}")
    fixed = {name: value for name, value in compiled.params.items() if value is not None}
    # What the columns' types do to a value on its way in (JSON to text, UTCDateTime's
    # checks), which SQLAlchemy applies and the driver would not.
    processors = {
        name: process
        for name, process in cast(SQLCompiler, compiled)._bind_processors.items()
        if callable(process)  # not a tuple type's processors, which no statement here has
    }
    return sql, fixed, processors


def postgresql_sql(statement: ClauseElement) -> tuple[str, Mapping[str, Any]]:
    """A Core statement compiled once for psycopg: its text and the values of the parameters
    it fixes itself (a literal in a WHERE clause), to merge under the caller's. Cached by the
    statement object: for statements built once, at import or per count of ids. The caller
    converts its values as the columns' types would (`execute_prebuilt` does it itself)."""
    sql, fixed, _ = _compiled_for_psycopg(statement)
    return sql, fixed


def execute_prebuilt(
    session: Session,
    statement: Executable,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]],
) -> list[tuple[Any, ...]]:
    """Run a Core statement built once (at import, with bind parameters) and return its rows
    as plain tuples; several mappings run it once for each and return no rows. On
    PostgreSQL psycopg sends it itself (`execute_on_driver`), with the values converted by
    the columns' types as SQLAlchemy would; elsewhere it goes through the session.
    Python-side column defaults are not applied: pass every value. The rows come back as
    the driver gives them on PostgreSQL (a timestamp in the connection's time zone, not
    converted to UTC), so select plain values, or convert them."""
    if session.get_bind().dialect.name != "postgresql":
        given = params if isinstance(params, Mapping) else list(params)
        result = session.execute(statement, given)
        # A Core statement without rows (an UPDATE without RETURNING) gives a closed result.
        return [tuple(row) for row in result] if getattr(result, "returns_rows", True) else []
    sql, fixed, processors = _compiled_for_psycopg(cast(ClauseElement, statement))

    def converted(given: Mapping[str, Any]) -> dict[str, Any]:
        values = {**fixed, **given}
        for name, process in processors.items():
            if name in values:
                values[name] = process(values[name])
        return values

    if isinstance(params, Mapping):
        return execute_on_driver(session, sql, converted(params))
    return execute_on_driver(session, sql, [converted(row) for row in params])


class Database:
    """The engine and its session factories, owned by the app or a worker."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.is_sqlite = url.startswith("sqlite")
        self._reader = sessionmaker(bind=self.engine, expire_on_commit=False)
        writer_bind = self.engine.execution_options(sqlite_immediate=True)
        self._writer = sessionmaker(bind=writer_bind, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The database of `settings`, with its pool's size."""
        return cls(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )

    def session(self, *, write: bool = True) -> Session:
        return (self._writer if write else self._reader)()

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: commit on success, roll back on error, then run after-commit hooks."""
        session = self.session(write=write)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        run_after_commit(session)

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A reading transaction that sees the database as it was at its first query, however
        long it runs and whatever commits meanwhile: for reports and checks whose queries
        must agree with each other. PostgreSQL runs it REPEATABLE READ; a SQLite read
        transaction in WAL mode already is one."""
        with self.unit_of_work(write=False) as session:
            if not self.is_sqlite:
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def after_commit(session: Session, hook: Callable[[], None]) -> None:
    """Run `hook` once the session's transaction has committed (e.g. to enqueue a job)."""
    session.info.setdefault("after_commit", []).append(hook)


def run_after_commit(session: Session) -> None:
    hooks: list[Callable[[], None]] = session.info.pop("after_commit", [])
    for hook in hooks:
        hook()


# Set in session.info by a request's code that committed the request's transaction itself.
COMMITTED_EARLY = "committed_early"


async def request_session(request: Request) -> AsyncIterator[Session]:
    """The request's one transaction: committed before the response is sent, or rolled back.

    Reads (GET/HEAD) begin a plain transaction; everything else takes SQLite's write lock up
    front. Used with `Depends(..., scope="function")` so a failed commit is never reported as
    success to the client.

    A coroutine, not a thread: making the session touches no database, and a transaction
    that already ended (idempotent writes commit as soon as their response is ready) is
    closed without one. Only a commit or rollback still to do goes to a worker thread. A sync
    dependency cost two thread hops per request, about a twentieth of a write's CPU.
    """
    database: Database = request.app.state.db
    write = request.method not in {"GET", "HEAD", "OPTIONS"}
    session = database.session(write=write)
    try:
        yield session
    except BaseException:
        # Shielded: a client that went away must not leave the transaction (and SQLite's
        # write lock) open.
        with anyio.CancelScope(shield=True):
            await _end_request_session(session, commit=False)
        raise
    with anyio.CancelScope(shield=True):
        await _end_request_session(session, commit=True)


async def _end_request_session(session: Session, *, commit: bool) -> None:
    if session.in_transaction() or session.info.get("after_commit"):
        # A limiter of its own, as FastAPI gives a sync dependency's exit: with the shared
        # pool full of requests waiting for a connection or SQLite's write lock, the commit
        # that would free them must not wait for a thread too.
        await anyio.to_thread.run_sync(
            _finish_request_session, session, commit, limiter=anyio.CapacityLimiter(1)
        )
    else:
        session.close()  # nothing began, or it already ended: no database work


def _finish_request_session(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    # A write that committed early (`committed_early`) did happen even if the request failed
    # after it: what was to follow its commit still runs.
    if commit or session.info.pop(COMMITTED_EARLY, False):
        run_after_commit(session)


DbSession = Annotated[Session, Depends(request_session, scope="function")]


def insert_unless_taken(table: Table, unique: Sequence[str] | None) -> dict[str, Executable]:
    """For `execute_prebuilt`, per dialect (ON CONFLICT is each dialect's own): an INSERT of
    every column of `table`, each a bind parameter named after it, that inserts nothing when
    a row already holds the `unique` columns' values (None: any unique rule of the table's),
    and returns the new row's id."""
    index_elements = None if unique is None else list(unique)
    return {
        name: module.insert(table)
        .values({column.name: bindparam(column.name) for column in table.c})
        .on_conflict_do_nothing(index_elements=index_elements)
        .returning(table.c.id)
        for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
    }


# As a parameter's value: SQL's NULL even where the column's type has a meaning for None.
SQL_NULL = null()


def full_row(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` completed to every column of `table`, for an INSERT built once with a bind
    parameter per column (`insert_unless_taken`): a column not given takes its Python-side
    default, called when it is a function, or NULL: `SQL_NULL` for a JSON column, whose
    type would store None as JSON's null, which `IS NULL` does not find. Refuses a key that
    is not a column, which would otherwise be dropped silently, and a column left to a
    server-side default, which this would overwrite with NULL."""
    if unknown := values.keys() - table.c.keys():
        raise ValueError(f"{table.name} has no columns {sorted(unknown)}")
    row = dict(values)
    for column in table.c:
        if column.name in row:
            continue
        if column.server_default is not None:
            raise ValueError(f"{table.name}.{column.name} has a server default: pass a value")
        default = column.default
        if default is None:
            row[column.name] = SQL_NULL if isinstance(column.type, JSON) else None
        elif isinstance(default, ColumnDefault) and default.is_callable:
            row[column.name] = default.arg(None)  # SQLAlchemy wraps it to take a context
        elif isinstance(default, ColumnDefault) and default.is_scalar:
            row[column.name] = default.arg
        else:
            raise ValueError(f"{table.name}.{column.name} has a SQL default: pass a value")
    return row


def dialect_insert(session: Session, table: Any) -> Any:
    """The session's dialect's INSERT, which knows ON CONFLICT on SQLite and PostgreSQL."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(table)
