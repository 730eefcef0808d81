"""Background jobs of analytics. Importing this module also installs the metric-snapshot
rollup listener (through the models), so a worker keeps `metric_daily` current too."""

from __future__ import annotations

from huey import crontab

from pappus.analytics import clicks
from pappus.jobs import database, huey
from pappus.kit.clock import now


@huey.task(retries=10, retry_delay=5)  # type: ignore[untyped-decorator]
def ingest_click_batch(rows: list[tuple[object, ...]]) -> int:
    """A batch of clicks from a server's buffer (production, with Redis): written by a worker
    so the web process only collects them. Safe to retry: stored clicks are skipped."""
    with database().unit_of_work() as session:
        return clicks.ingest_clicks(session, [clicks.from_row(row) for row in rows]).clicks


def enqueue_clicks(batch: list[clicks.ClickIn]) -> None:
    """The click buffer's sink when jobs go through Redis."""
    ingest_click_batch([clicks.as_row(click) for click in batch])


@huey.periodic_task(crontab(minute="*/10"), retries=0)  # type: ignore[untyped-decorator]
def prune_click_visits() -> int:
    """Every ten minutes: forget visit buckets older than an hour (repeats can no longer fall
    into them). Safe in several workers at once."""
    with database().unit_of_work() as session:
        return clicks.prune_visits(session, now())


@huey.periodic_task(crontab(minute="*/30"), retries=0)  # type: ignore[untyped-decorator]
def read_post_comments() -> int:
    """Every half hour: new comments of watched posts, classified for sentiment."""
    from pappus.analytics import comments

    return comments.sync_due(database())


@huey.periodic_task(crontab(minute="*/10"), retries=0)  # type: ignore[untyped-decorator]
def compute_benchmarks() -> int:
    """Every ten minutes: the platform's benchmarks by category and tier, stored for reports."""
    from pappus.analytics import reports

    with database().unit_of_work() as session:
        return reports.store_benchmarks(session).orders
