"""Background jobs of messaging: deliver each message after commit, and sweep what was left."""

from __future__ import annotations

from huey import crontab

from pappus.jobs import database, huey
from pappus.messaging import service


@huey.task(retries=4, retry_delay=30)  # type: ignore[untyped-decorator]
def deliver_message_job(message_id: str) -> str:
    return service.deliver(database(), message_id)


@huey.periodic_task(crontab(minute="*/5"), retries=0)  # type: ignore[untyped-decorator]
def sweep_outbox() -> int:
    return service.sweep(database())
