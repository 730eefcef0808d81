"""Background jobs of the ledger: the sandbox provider's asynchronous deposit confirmation."""

from __future__ import annotations

import logging

from pappus.errors import PappusError
from pappus.jobs import database, huey
from pappus.ledger import repository as repo
from pappus.ledger import service
from pappus.ledger.payments import SANDBOX, SIGNATURE_HEADER, sandbox_event, sign

logger = logging.getLogger(__name__)


def deliver_sandbox_webhook(deposit_id: str) -> str | None:
    """Act as the sandbox provider: sign the deposit's outcome event and deliver it to the
    webhook handler (the same verification path as POST /webhooks/payments/sandbox)."""
    db = database()
    with db.unit_of_work(write=False) as session:
        deposit = repo.get_deposit(session, deposit_id)
        if deposit is None or deposit.status != "pending":
            return None
        body = sandbox_event(deposit.provider_ref, deposit.amount, deposit.currency)
        header = sign(service.sandbox_webhook_secret(session), body)
    try:
        with db.unit_of_work() as session:
            return service.handle_deposit_webhook(session, SANDBOX, body, header).status
    except PappusError as exc:
        logger.warning(
            "sandbox webhook for %s refused (%s): %s", deposit_id, SIGNATURE_HEADER, exc.detail
        )
        raise


@huey.task(retries=5, retry_delay=2)  # type: ignore[untyped-decorator]
def confirm_sandbox_deposit(deposit_id: str) -> str | None:
    return deliver_sandbox_webhook(deposit_id)
