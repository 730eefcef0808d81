"""Background jobs of the campaigns domain: expiring stale applications and invitations."""

from __future__ import annotations

from huey import crontab

from pappus.campaigns import service
from pappus.db import Database
from pappus.jobs import database, huey


def expire_offers(db: Database) -> int:
    with db.unit_of_work() as session:
        return service.expire_stale(session)


@huey.periodic_task(  # type: ignore[untyped-decorator]
    crontab(minute="*/5"), retries=0
)
def expire_stale_offers() -> int:
    return expire_offers(database())
