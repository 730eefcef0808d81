"""Background jobs of the ledger: the sandbox provider's asynchronous deposit confirmation."""

from __future__ import annotations

import logging

from huey import crontab

from pappus.errors import PappusError
from pappus.jobs import database, huey
from pappus.ledger import payouts, service
from pappus.ledger import repository as repo
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


@huey.task(retries=5, retry_delay=5)  # type: ignore[untyped-decorator]
def process_payout_job(payout_id: str) -> str:
    return payouts.process_payout(database(), payout_id)


@huey.periodic_task(crontab(minute="*/10"), retries=0)  # type: ignore[untyped-decorator]
def mature_and_retry_payouts() -> int:
    """Mature earnings past the holding period, and finish payouts a crash left processing."""
    db = database()
    with db.unit_of_work() as session:
        matured = payouts.mature_earnings(session)
        stuck = payouts.processing_payout_ids(session)
    for payout_id in stuck:
        payouts.process_payout(db, payout_id)
    return matured
