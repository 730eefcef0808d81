"""Background job of the audit trail: seal new entries into the hash chain."""

from __future__ import annotations

from huey import crontab

from pappus.audit import service
from pappus.jobs import database, huey


@huey.periodic_task(crontab(minute="*"), retries=0)  # type: ignore[untyped-decorator]
def seal_audit_entries() -> int:
    """Every minute: chain what was written since (safe to run in several workers at once:
    sealing takes the head's lock)."""
    return service.seal_all(database())
