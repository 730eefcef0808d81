"""The job queue (Huey): SQLite storage embedded, Redis in production.

Jobs are enqueued after commit and are safe to run twice; periodic sweeps run in every worker
process, and each change they make is guarded by the order's version, so several workers on
several machines can sweep at once.
"""

from __future__ import annotations

import threading

from huey import Huey, RedisHuey, SqliteHuey

from pappus.config import Settings, get_settings
from pappus.db import Database


def make_huey(settings: Settings) -> Huey:
    if settings.redis_url:
        return RedisHuey("pappus", url=settings.redis_url, utc=True)
    return SqliteHuey("pappus", filename=settings.jobs_path, utc=True)


huey: Huey = make_huey(get_settings())

_database: Database | None = None
_lock = threading.Lock()


def database() -> Database:
    """The process's database for jobs (shared with the app when they run in-process)."""
    global _database
    with _lock:
        if _database is None:
            _database = Database.from_settings(get_settings())
        return _database


def use_database(db: Database) -> None:
    global _database
    with _lock:
        _database = db


def load_tasks() -> None:
    """Import every domain's tasks so the consumer knows them."""
    import pappus.analytics.tasks
    import pappus.audit.tasks
    import pappus.campaigns.tasks
    import pappus.connectors.tasks
    import pappus.messaging.tasks
    import pappus.orders.tasks
    import pappus.vetting.tasks  # noqa: F401
