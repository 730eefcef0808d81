"""Background sync of linked social accounts, with exponential backoff on platform faults."""

from __future__ import annotations

from huey import crontab
from huey.exceptions import RetryTask

from pappus.connectors import service
from pappus.connectors.base import ConnectorError
from pappus.jobs import database, huey

MAX_ATTEMPTS = 6  # then the periodic resync tries again later
BASE_DELAY_SECONDS = 15
MAX_DELAY_SECONDS = 3600


def backoff_seconds(failures: int) -> int:
    """15 s, 30 s, 1 min, 2 min, ... capped at an hour."""
    return int(min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** max(0, failures - 1)))


@huey.task()  # type: ignore[untyped-decorator]
def sync_social_account_job(account_id: str) -> str:
    db = database()
    try:
        return service.sync_account(db, account_id)
    except ConnectorError:
        failures = service.sync_failures(db, account_id)
        if failures >= MAX_ATTEMPTS:
            return "failed"
        raise RetryTask(delay=backoff_seconds(failures)) from None


@huey.periodic_task(crontab(minute="*/15"), retries=0)  # type: ignore[untyped-decorator]
def resync_social_accounts() -> int:
    """Enqueue a sync for every active account not synced in the last few hours."""
    due = service.accounts_due(database())
    for account_id in due:
        sync_social_account_job(account_id)
    return len(due)
