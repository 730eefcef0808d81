"""Creator payouts: payout methods (encrypted at rest), the holding period after which earnings
become available, and payouts through the sandbox payout provider.

A payout holds the amount from the creator's available balance, then the provider is called
with the payout's id as its idempotency key; success posts the hold, failure voids it so the
money returns. Processing is safe to repeat: a retried or duplicated job finds the hold already
resolved and changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pappus.accounts.principal import Principal
from pappus.config import get_settings
from pappus.db import Database, after_commit
from pappus.errors import Conflict, InvalidInput, NotFound
from pappus.kit import crypto
from pappus.kit.clock import now
from pappus.ledger import book
from pappus.ledger import payouts_repository as repo
from pappus.ledger.book import Leg
from pappus.ledger.payment_models import Payout, PayoutMethod
from pappus.ledger.payments import SANDBOX, encryption_key
from pappus.orders import service as orders

logger = logging.getLogger(__name__)

# Sandbox rules, like test cards: account numbers ending 0000 fail verification; payouts whose
# amount ends in ...13 minor units are rejected by the bank and return to the creator.
SANDBOX_BAD_ACCOUNT_SUFFIX = "0000"
SANDBOX_FAILING_PAYOUT_SUFFIX = 13


class PayoutMethodUnusable(Conflict):
    code = "payout_method_unusable"
    title = "Payout method not verified"


def _key(session: Session) -> str:
    return encryption_key(session)


def add_payout_method(
    session: Session, principal: Principal, kind: str, holder_name: str, account_number: str
) -> PayoutMethod:
    creator_id = principal.require_creator()
    digits = "".join(ch for ch in account_number if ch.isalnum())
    if len(digits) < 6:
        raise InvalidInput("account_number is too short", field="account_number")
    failed = digits.endswith(SANDBOX_BAD_ACCOUNT_SUFFIX)
    method = PayoutMethod(
        creator_id=creator_id,
        kind=kind,
        holder_name=holder_name,
        account_encrypted="",
        account_last4=digits[-4:],
        status="failed" if failed else "verified",
        failure_reason="account could not be verified (sandbox: numbers ending 0000)"
        if failed
        else None,
    )
    repo.add(session, method)
    method.account_encrypted = crypto.encrypt(_key(session), digits, method.id)
    session.flush()
    return method


def payout_methods(session: Session, principal: Principal) -> list[PayoutMethod]:
    return list(repo.methods_of(session, principal.require_creator()))


def mature_earnings(session: Session, at: datetime | None = None) -> int:
    """Move released earnings older than the holding period from pending to available; each
    release matures exactly once (its reference is unique)."""
    cutoff = (at or now()) - timedelta(days=get_settings().creator_holding_days)
    matured = 0
    for release in repo.unmatured_releases(session, cutoff):
        amount = int(release.details.get("to_creator") or 0)
        creator_id = str(release.details["creator_id"])
        currency = str(release.details["currency"])
        # A release that paid the creator nothing still gets its (empty) maturity record, so
        # it is not scanned again and cannot crowd out later releases.
        pending = book.account_id(session, "creator_pending", creator_id, currency)
        available = book.account_id(session, "creator_available", creator_id, currency)
        try:
            with session.begin_nested():
                book.post(
                    session,
                    "mature",
                    f"mature:{release.id}",
                    [Leg(pending, available, amount)],
                    order_id=release.order_id,
                    memo="earnings available for payout",
                    details={"creator_id": creator_id, "release_id": release.id},
                )
        except book.DuplicateReference:
            continue
        matured += 1
    return matured


def request_payout(
    session: Session, principal: Principal, amount: int, currency: str, method_id: str
) -> Payout:
    creator_id = principal.require_creator()
    method = repo.get_method(session, method_id)
    if method is None or method.creator_id != creator_id:
        raise NotFound("payout method not found")
    if method.status != "verified":
        raise PayoutMethodUnusable("this payout method is not verified")
    held = orders.creator_payout_holds(session, creator_id)
    if held:
        raise Conflict(
            "payouts are held: a post was taken down or lost its disclosure label within the"
            f" period the contract asks it to stay up (orders {', '.join(held)}); staff release"
            " the hold",
            code="payout_held",
            order_ids=held,
        )
    if amount < get_settings().min_payout_amount:
        raise InvalidInput(f"payouts start at {get_settings().min_payout_amount}", field="amount")
    payout = Payout(
        creator_id=creator_id,
        payout_method_id=method.id,
        amount=amount,
        currency=currency,
        status="processing",
    )
    repo.add(session, payout)
    available = book.account_id(session, "creator_available", creator_id, currency)
    clearing = book.account_id(session, "payout_clearing", SANDBOX, currency)
    payout.hold_transfer_id = book.hold(
        session,
        "payout_hold",
        f"payout:{payout.id}:hold",
        available,
        clearing,
        amount,
        memo="payout",
        details={"payout_id": payout.id, "creator_id": creator_id},
    )
    session.flush()
    payout_id = payout.id
    after_commit(session, lambda: _enqueue(payout_id))
    return payout


def _enqueue(payout_id: str) -> None:
    from pappus.ledger.tasks import process_payout_job

    process_payout_job(payout_id)


def sandbox_pay(payout_id: str, amount: int) -> tuple[bool, str]:
    """The sandbox payout provider: deterministic per payout id, so a retry after a crash gets
    the same answer (a real provider is called with the payout id as idempotency key)."""
    if amount % 100 == SANDBOX_FAILING_PAYOUT_SUFFIX:
        return False, "rejected by the receiving bank (sandbox: amounts ending in 13)"
    return True, f"sbx_po_{payout_id[-16:]}"


def settle_payout(session: Session, payout_id: str) -> str:
    """Call the provider for a processing payout and post or void its hold. Idempotent."""
    payout = repo.get_payout(session, payout_id, lock=True)
    if payout is None:
        raise NotFound("payout not found")
    if payout.status != "processing" or payout.hold_transfer_id is None:
        return payout.status
    paid, result = sandbox_pay(payout.id, payout.amount)
    try:
        if paid:
            book.post_pending(
                session,
                "payout",
                f"payout:{payout.id}:paid",
                payout.hold_transfer_id,
                payout.amount,
                memo="payout sent",
                details={"payout_id": payout.id, "creator_id": payout.creator_id},
            )
            payout.status, payout.provider_ref = "paid", result
        else:
            book.void_pending(
                session,
                "payout_return",
                f"payout:{payout.id}:return",
                payout.hold_transfer_id,
                memo="payout failed; money returned",
                details={"payout_id": payout.id, "creator_id": payout.creator_id},
            )
            payout.status, payout.failure_reason = "failed", result
    except (book.HoldAlreadyResolved, book.DuplicateReference):
        logger.info("payout %s was already settled", payout.id)
        return payout.status
    payout.settled_at = now()
    session.flush()
    return payout.status


def process_payout(db: Database, payout_id: str) -> str:
    with db.unit_of_work() as session:
        return settle_payout(session, payout_id)


def list_payouts(
    session: Session, principal: Principal, after_id: str | None, limit: int
) -> list[Payout]:
    return list(
        repo.payouts_of(session, principal.require_creator(), after_id=after_id, limit=limit)
    )


def get_payout(session: Session, principal: Principal, payout_id: str) -> Payout:
    payout = repo.get_payout(session, payout_id)
    if payout is None or payout.creator_id != principal.creator_id:
        raise NotFound("payout not found")
    return payout


def processing_payout_ids(session: Session) -> list[str]:
    return list(repo.processing_payout_ids(session))
