"""Background scoring: on request, and a round every six hours that scores every creator
whose latest score is a week old (or who has none since linking an account)."""

from __future__ import annotations

from huey import crontab

from pappus.jobs import database, huey
from pappus.vetting import service


# A platform fault (timeout, 5xx) raises: Huey retries three times, five minutes apart, and
# the next round takes the creator again after that.
@huey.task(retries=3, retry_delay=300)  # type: ignore[untyped-decorator]
def score_creator_job(creator_id: str) -> str:
    return service.score_or_log(database(), creator_id)


@huey.periodic_task(crontab(minute="17", hour="*/6"), retries=0)  # type: ignore[untyped-decorator]
def rescore_creators() -> int:
    """Enqueue scoring for creators not scored within a week (a few hundred per round)."""
    due = service.creators_due(database())
    for creator_id in due:
        score_creator_job(creator_id)
    return len(due)
