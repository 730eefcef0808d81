"""Background jobs of the orders domain: the periodic sweep that fires due timers, and the
scheduled reads of published posts' metrics from their platform."""

from __future__ import annotations

import logging
from datetime import datetime

from huey import crontab
from huey.exceptions import RetryTask

from pappus.connectors.base import ConnectorError
from pappus.connectors.tasks import backoff_seconds
from pappus.db import Database
from pappus.errors import Conflict
from pappus.jobs import database, huey
from pappus.kit.clock import now
from pappus.orders import publishing, service

logger = logging.getLogger(__name__)


def sweep_due_timers(db: Database, at: datetime | None = None) -> int:
    """Fire every due timer, each in its own transaction; returns how many fired.

    Safe to run concurrently and repeatedly: a timer whose order moved on, or that another
    sweep fired first, changes nothing.
    """
    at = at or now()
    with db.unit_of_work(write=False) as session:
        due = service.due_timers(session, at)
    fired = 0
    for order_id, action in due:
        try:
            with db.unit_of_work() as session:
                if service.fire_timer(session, order_id, action, at):
                    fired += 1
        except Conflict:
            logger.info("timer %s on %s lost a race; skipped", action, order_id)
    with db.unit_of_work() as session:
        fired += service.flag_retention_breaches(session, at)
    if fired:
        logger.info("fired %d order timers", fired)
    return fired


@huey.periodic_task(  # type: ignore[untyped-decorator]
    crontab(minute="*"), retries=0
)
def sweep_timers() -> int:
    return sweep_due_timers(database())


SNAPSHOT_MAX_ATTEMPTS = 5  # then the next periodic round tries again


@huey.task()  # type: ignore[untyped-decorator]
def snapshot_publication_job(publication_id: str) -> str:
    db = database()
    try:
        return publishing.snapshot_publication(db, publication_id)
    except ConnectorError:
        failures = publishing.check_failures(db, publication_id)
        if failures >= SNAPSHOT_MAX_ATTEMPTS:
            return "failed"
        raise RetryTask(delay=backoff_seconds(failures)) from None


@huey.periodic_task(crontab(minute="*/5"), retries=0)  # type: ignore[untyped-decorator]
def snapshot_published_posts() -> int:
    """Enqueue a metric read for every verified post not read within the interval."""
    due = publishing.publications_due(database())
    for publication_id in due:
        snapshot_publication_job(publication_id)
    return len(due)
