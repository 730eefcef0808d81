"""Money rules: the escrow seams the order workflow calls, deposits, wallet and earnings
views, and the invariant check behind `pappus ledger check`.

The workflow calls exactly two functions: `place_escrow_hold` when an order is created (a
pending transfer from the brand wallet to the order's escrow account; without the funds the
order is not created) and `settle_escrow` when it ends (post part of the hold, return the rest,
and pay the creator and the platform, in one ledger transaction). A reference per order and
kind makes each happen at most once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from pappus.accounts.principal import Access, Principal
from pappus.audit import service as audit
from pappus.db import after_commit
from pappus.errors import Conflict, Forbidden, InvalidInput, NotFound
from pappus.kit.clock import now
from pappus.ledger import book, check_repository
from pappus.ledger import book_repository as book_repo
from pappus.ledger import repository as repo
from pappus.ledger.book import InsufficientFunds, Leg, platform_revenue_owner
from pappus.ledger.check import FinishedOrders, Violation, check_ledger
from pappus.ledger.payment_models import Deposit
from pappus.ledger.payments import PROVIDERS, SANDBOX, InvalidSignature, sandbox_event, sign, verify

logger = logging.getLogger(__name__)

SANDBOX_WEBHOOK_SECRET = "sandbox_webhook"

__all__ = ["EscrowHold", "EscrowSettlement", "InsufficientFunds"]


class EscrowAlreadySettled(Conflict):
    code = "escrow_already_settled"
    title = "Escrow already settled"


class EscrowNotHeld(Conflict):
    code = "escrow_not_held"
    title = "No escrow hold for this order"


@dataclass(frozen=True)
class EscrowHold:
    order_id: str
    organization_id: str
    creator_id: str
    currency: str
    amount: int


@dataclass(frozen=True)
class EscrowSettlement:
    order_id: str
    to_creator: int
    to_platform: int
    to_brand: int
    reason: str


def _hold_reference(order_id: str) -> str:
    return f"order:{order_id}:hold"


def place_escrow_hold(session: Session, hold: EscrowHold) -> None:
    """Hold the order's escrow from the brand wallet; InsufficientFunds (402) otherwise."""
    # The wallet and the order's new escrow account, found or created in one go.
    wallet, escrow = book.account_ids(
        session,
        [
            ("brand_wallet", hold.organization_id, hold.currency),
            ("order_escrow", hold.order_id, hold.currency),
        ],
    )
    book.hold(
        session,
        "escrow_hold",
        _hold_reference(hold.order_id),
        wallet,
        escrow,
        hold.amount,
        order_id=hold.order_id,
        memo="escrow for order",
        details={"organization_id": hold.organization_id, "creator_id": hold.creator_id},
    )


def settle_escrow(session: Session, settlement: EscrowSettlement) -> None:
    """Post what the creator and the platform get, return the rest to the brand: one
    transaction, at most once per order."""
    pending = book.pending_hold(session, _hold_reference(settlement.order_id))
    if pending is None:
        raise EscrowNotHeld(f"order {settlement.order_id} has no escrow hold")
    legs = (settlement.to_creator, settlement.to_platform, settlement.to_brand)
    if min(legs) < 0 or sum(legs) != pending.amount:
        raise ValueError(f"settlement legs {legs} do not add up to the hold of {pending.amount}")
    creator_id = str(pending.details["creator_id"])
    currency = pending.currency
    escrow_id = pending.credit_account_id
    shares = [
        (amount, (purpose, owner_id, currency))
        for amount, purpose, owner_id in (
            (settlement.to_creator, "creator_pending", creator_id),
            (
                settlement.to_platform,
                "platform_revenue",
                platform_revenue_owner(settlement.order_id),
            ),
        )
        if amount
    ]
    payee_ids = book.account_ids(session, [payee for _, payee in shares])  # one query
    payees = [
        Leg(escrow_id, payee, amount) for (amount, _), payee in zip(shares, payee_ids, strict=True)
    ]
    # A second settlement is refused inside the book, after the accounts are locked.
    reference = f"order:{settlement.order_id}:settle"
    details = {
        "to_creator": settlement.to_creator,
        "to_platform": settlement.to_platform,
        "to_brand": settlement.to_brand,
        "reason": settlement.reason,
        "creator_id": creator_id,
        "currency": currency,
    }
    try:
        if settlement.to_creator + settlement.to_platform == 0:
            book.void_pending(
                session,
                "escrow_refund",
                reference,
                pending,
                order_id=settlement.order_id,
                memo="escrow refunded",
                details=details,
            )
        else:
            book.post_pending(
                session,
                "escrow_release",
                reference,
                pending,
                settlement.to_creator + settlement.to_platform,
                then=payees,
                order_id=settlement.order_id,
                memo="escrow released",
                details=details,
            )
    except (book.HoldAlreadyResolved, book.DuplicateReference):
        raise EscrowAlreadySettled(f"order {settlement.order_id} is already settled") from None


# -- deposits -------------------------------------------------------------------------------


def authorize_deposit(principal: Principal, organization_id: str | None) -> str:
    """Funding moves the organization's money: owners and admins, not API keys."""
    org = organization_id or principal.default_organization(need=Access.manage)
    if principal.api_key_id is not None:
        raise Forbidden("API keys cannot fund wallets", code="user_only")
    principal.require_org(org, Access.manage, what="organization")
    return org


def create_deposit(
    session: Session,
    principal: Principal,
    organization_id: str | None,
    amount: int,
    currency: str,
) -> Deposit:
    org = authorize_deposit(principal, organization_id)
    provider = PROVIDERS[SANDBOX]
    deposit = Deposit(
        organization_id=org,
        amount=amount,
        currency=currency,
        status="pending",
        provider=provider.name,
        provider_ref="",
        created_by=principal.actor_id,
    )
    repo.add(session, deposit)
    deposit.provider_ref = provider.create_deposit(deposit.id, amount, currency).provider_ref
    session.flush()
    deposit_id = deposit.id
    after_commit(session, lambda: _enqueue_sandbox_confirmation(deposit_id))
    return deposit


def _enqueue_sandbox_confirmation(deposit_id: str) -> None:
    from pappus.ledger.tasks import confirm_sandbox_deposit

    confirm_sandbox_deposit(deposit_id)


def handle_deposit_webhook(
    session: Session, provider: str, body: bytes, signature: str | None
) -> Deposit:
    """Apply a provider's deposit outcome. Duplicates and events for settled deposits change
    nothing; a forged or stale signature is refused."""
    if provider not in PROVIDERS:
        raise NotFound(f"unknown payment provider {provider}")
    verify(_webhook_secret(session, provider), body, signature)
    try:
        event = json.loads(body)
        kind = event["type"]
        data = event["data"]
        ref, amount, currency = data["provider_ref"], int(data["amount"]), data["currency"]
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("webhook body is not a deposit event") from None
    deposit = repo.deposit_by_provider_ref(session, provider, str(ref), lock=True)
    if deposit is None:
        raise NotFound("no deposit with this provider reference")
    if (amount, currency) != (deposit.amount, deposit.currency):
        raise InvalidInput("the event's amount or currency does not match the deposit")
    if deposit.status != "pending":
        logger.info("duplicate %s for deposit %s ignored", kind, deposit.id)
        return deposit
    if kind == "deposit.succeeded":
        clearing = book.account_id(session, "deposit_clearing", provider, deposit.currency)
        org = deposit.organization_id
        wallet = book.account_id(session, "brand_wallet", org, deposit.currency)
        book.post(
            session,
            "deposit",
            f"deposit:{deposit.id}",
            [Leg(clearing, wallet, deposit.amount)],
            memo="wallet deposit",
            details={"deposit_id": deposit.id, "organization_id": deposit.organization_id},
        )
        deposit.status = "succeeded"
    elif kind == "deposit.failed":
        deposit.status = "failed"
        deposit.failure_reason = str(data.get("failure_reason") or "failed")[:300]
    else:
        raise InvalidInput(f"unknown event type {kind}")
    deposit.settled_at = now()
    audit.record(
        session,
        f"deposit.{deposit.status}",
        "deposit",
        deposit.id,
        actor_kind="payment_provider",
        data={"amount": deposit.amount, "currency": deposit.currency},
    )
    session.flush()
    return deposit


def _webhook_secret(session: Session, provider: str) -> str:
    from pappus.ledger.payments import secret

    if provider == SANDBOX:
        return secret(session, SANDBOX_WEBHOOK_SECRET)
    raise InvalidSignature("no webhook secret for this provider")


def sandbox_webhook_secret(session: Session) -> str:
    return _webhook_secret(session, SANDBOX)


def get_deposit(session: Session, principal: Principal, deposit_id: str) -> Deposit:
    deposit = repo.get_deposit(session, deposit_id)
    if deposit is None:
        raise NotFound("deposit not found")
    principal.require_org(deposit.organization_id, Access.read, "wallet:read", what="deposit")
    return deposit


def list_deposits(
    session: Session,
    principal: Principal,
    organization_id: str | None,
    after_id: str | None,
    limit: int,
) -> list[Deposit]:
    org = organization_id or principal.default_organization(need=Access.read)
    principal.require_org(org, Access.read, "wallet:read", what="organization")
    return list(repo.deposits_of(session, org, after_id=after_id, limit=limit))


# -- balances and statements ----------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    currency: str
    available: int
    held_in_escrow: int
    posted: int


def wallet_balances(
    session: Session, principal: Principal, organization_id: str | None
) -> tuple[str, list[Balance]]:
    org = organization_id or principal.default_organization(need=Access.read)
    principal.require_org(org, Access.read, "wallet:read", what="organization")
    return org, [
        Balance(a.currency, a.available, a.debits_pending, a.balance)
        for a in repo.accounts_of_owner(session, "organization", org)
        if a.purpose == "brand_wallet"
    ]


@dataclass(frozen=True)
class StatementLine:
    id: str
    transaction_id: str
    kind: str
    memo: str
    order_id: str | None
    direction: str  # credit | debit | hold | release
    amount: int
    currency: str
    balance_after: int | None
    created_at: Any
    details: dict[str, Any]


def wallet_statement(
    session: Session,
    principal: Principal,
    organization_id: str | None,
    currency: str,
    after_id: str | None,
    limit: int,
) -> tuple[str, list[StatementLine]]:
    org = organization_id or principal.default_organization(need=Access.read)
    principal.require_org(org, Access.read, "wallet:read", what="organization")
    account = book.find_account(session, "brand_wallet", org, currency)
    if account is None:
        return org, []
    return org, statement(session, account.id, after_id, limit)


def statement(
    session: Session, account_id: str, after_id: str | None, limit: int
) -> list[StatementLine]:
    """Lines for one account, newest first, each with the posted balance after it."""
    shown = repo.account_transfers(session, account_id, after_id=after_id, limit=limit)
    if not shown:
        return []
    # Running balance: the account's posted balance minus the posted effect of newer lines.
    balance = repo.posted_balance_through(session, account_id, shown[0][0].id)
    lines = []
    for transfer, txn in shown:
        credit = transfer.credit_account_id == account_id
        effect = 0
        if transfer.kind in ("posted", "post_pending"):
            effect = transfer.amount if credit else -transfer.amount
        direction = {
            "pending": "hold",
            "void_pending": "release",
        }.get(transfer.kind, "credit" if credit else "debit")
        lines.append(
            StatementLine(
                id=transfer.id,
                transaction_id=txn.id,
                kind=txn.kind,
                memo=txn.memo,
                order_id=txn.order_id,
                direction=direction,
                amount=transfer.amount
                if transfer.kind != "void_pending"
                else transfer.pending_amount,
                currency=transfer.currency,
                balance_after=balance,
                created_at=transfer.created_at,
                details=txn.details,
            )
        )
        balance -= effect
    return lines


EXPORT_PAGE = 1000
MAX_EXPORT_LINES = 200_000


def export_all(fetch: Callable[[str | None, int], list[StatementLine]]) -> list[StatementLine]:
    """Every line of a statement for a CSV export, newest first, page by page."""
    lines: list[StatementLine] = []
    after: str | None = None
    while len(lines) < MAX_EXPORT_LINES:
        page = fetch(after, EXPORT_PAGE)
        lines.extend(page[:EXPORT_PAGE])
        if len(page) <= EXPORT_PAGE:
            break
        after = page[EXPORT_PAGE - 1].id
    return lines


def creator_earnings(session: Session, principal: Principal) -> dict[str, Any]:
    creator_id = principal.require_creator()
    balances: dict[str, dict[str, int]] = {}
    for acc in repo.accounts_of_owner(session, "creator", creator_id):
        entry = balances.setdefault(acc.currency, {"pending": 0, "available": 0, "paid_out": 0})
        if acc.purpose == "creator_pending":
            entry["pending"] = acc.balance
        elif acc.purpose == "creator_available":
            entry["available"] = acc.available
            entry["paid_out"] = acc.debits_posted
    return {
        "creator_id": creator_id,
        "balances": [{"currency": c, **v} for c, v in sorted(balances.items())],
    }


def creator_statement(
    session: Session, principal: Principal, currency: str, after_id: str | None, limit: int
) -> list[StatementLine]:
    creator_id = principal.require_creator()
    account = book.find_account(session, "creator_pending", creator_id, currency)
    if account is None:
        return []
    return statement(session, account.id, after_id, limit)


def order_money_movements(session: Session, order_id: str) -> list[dict[str, Any]]:
    """Every transfer of an order's escrow, fees, bonus and refunds (for its dossier)."""
    return book_repo.order_movements(session, order_id)


def check_invariants(session: Session, finished: FinishedOrders) -> list[Violation]:
    """Every ledger invariant violation (empty when the book is sound). `finished`: the
    finished orders' ids, or a function telling which of some order ids are finished."""
    return check_ledger(session, finished)


def book_size(session: Session) -> tuple[int, int]:
    """How many accounts and transfers the book holds."""
    return check_repository.book_size(session)


def confirm_sandbox_deposit_now(session: Session, deposit: Deposit) -> Deposit:
    """Deliver the sandbox provider's signed outcome for `deposit` right away (demo seeding)."""
    body = sandbox_event(deposit.provider_ref, deposit.amount, deposit.currency)
    return handle_deposit_webhook(
        session, SANDBOX, body, sign(sandbox_webhook_secret(session), body)
    )
