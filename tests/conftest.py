"""Every database test runs on SQLite and on PostgreSQL, each test on an empty migrated schema.

PAPPUS_TEST_BACKENDS picks the backends (default: both). PostgreSQL is reached at
PAPPUS_TEST_POSTGRES_URL (default: the local server as user postgres); the tests create their
own database there and drop it afterwards. Without a server the PostgreSQL tests are skipped
with a message, except under CI=true, where they must run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Tests move the clock by weeks; tokens last a year here (expiry is tested by moving further).
os.environ.setdefault("PAPPUS_ACCESS_TOKEN_MINUTES", str(365 * 24 * 60))
# Thousands of apps start in one test process; frozen objects would never be collected.
os.environ.setdefault("PAPPUS_FREEZE_HEAP_AT_START", "false")
os.environ.setdefault(
    "PAPPUS_JOBS_SQLITE_PATH",
    str(Path(tempfile.gettempdir()) / f"pappus-test-jobs-{os.getpid()}.db"),
)

from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text

from pappus.app import create_app
from pappus.config import Settings
from pappus.db import Base, Database
from pappus.kit.clock import clock
from pappus.migrate import upgrade
from pappus.models import import_all_models

import_all_models()

BACKENDS = [
    b.strip()
    for b in os.environ.get("PAPPUS_TEST_BACKENDS", "sqlite,postgresql").split(",")
    if b.strip()
]
POSTGRES_URL = os.environ.get(
    "PAPPUS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# CI must be repeatable: the same examples every run (explore locally, where it varies).
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if IN_CI:
    hypothesis_settings.load_profile("ci")


def _postgres_available() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means "no server here"
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session", params=BACKENDS)
def database_template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    backend = request.param
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        upgrade(f"sqlite:///{path}")
        yield "sqlite", str(path)
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend}")
    problem = _postgres_available()
    if problem is not None:
        message = f"PostgreSQL at {POSTGRES_URL} is not reachable ({problem})"
        if IN_CI:
            pytest.fail(message + "; CI=true requires the PostgreSQL run")
        pytest.skip(message + "; PostgreSQL tests skipped")
    name = f"pappus_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield "postgresql", url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _truncate_all(database: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db(database_template: tuple[str, str], tmp_path: Path) -> Iterator[Database]:
    backend, location = database_template
    if backend == "sqlite":
        path = tmp_path / "pappus.db"
        shutil.copyfile(location, path)
        database = Database(f"sqlite:///{path}")
        yield database
        database.dispose()
        return
    database = Database(location)
    _truncate_all(database)
    yield database
    _truncate_all(database)
    database.dispose()


@pytest.fixture
def backend(database_template: tuple[str, str]) -> str:
    return database_template[0]


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def app(db: Database, settings: Settings):  # type: ignore[no-untyped-def]
    return create_app(settings, database=db, migrate_on_start=False, run_jobs=False)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def world(client: TestClient, db: Database):  # type: ignore[no-untyped-def]
    from tests.fixtures.builders import World

    return World(client, db)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove this process's job-queue database (each xdist worker has its own)."""
    mine = Path(tempfile.gettempdir()) / f"pappus-test-jobs-{os.getpid()}.db"
    if os.environ.get("PAPPUS_JOBS_SQLITE_PATH") == str(mine):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{mine}{suffix}").unlink(missing_ok=True)
