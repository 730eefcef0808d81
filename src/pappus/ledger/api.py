"""HTTP routes of the ledger: wallet, deposits, the payment webhook, statements, earnings."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from pappus.accounts.deps import CurrentPrincipal
from pappus.accounts.principal import Principal
from pappus.db import DbSession
from pappus.kit.idempotency import run_idempotent
from pappus.kit.pagination import Page, PageParams, next_cursor, page_params
from pappus.kit.routing import DomainRouter
from pappus.ledger import payouts, schemas, service
from pappus.ledger.payments import SIGNATURE_HEADER

router = DomainRouter(tags=["wallet"])
Paging = Annotated[PageParams, Depends(page_params)]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", description="Replays return the first response")
]
Currency = Annotated[str, Query(pattern=r"^[A-Z]{3}$")]
OrgQuery = Annotated[str | None, Query(max_length=40)]

CSV_COLUMNS = [
    "created_at",
    "id",
    "transaction_id",
    "kind",
    "direction",
    "amount",
    "currency",
    "balance_after",
    "order_id",
    "memo",
]


def _authorize_deposit(principal: Principal, organization_id: str | None) -> None:
    service.authorize_deposit(principal, organization_id)


def _authorize_creator(principal: Principal) -> None:
    principal.require_creator()


@router.post("/wallet/deposits", status_code=201, response_model=schemas.Deposit)
def create_deposit(
    body: schemas.DepositCreate,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Fund the organization's wallet (owners and admins). The deposit is `pending` until the
    payment provider confirms it through its signed webhook; only then is it available.
    Sandbox: amounts ending in 13 minor units are declined. Honours Idempotency-Key."""

    def operation() -> schemas.Deposit:
        deposit = service.create_deposit(
            session, principal, body.organization_id, body.amount, body.currency
        )
        return schemas.Deposit.model_validate(deposit)

    return run_idempotent(
        request,
        session,
        scope=principal.idempotency_scope,
        key=idempotency_key,
        payload=body.model_dump(),
        operation=operation,
        status_code=201,
        authorize=lambda: _authorize_deposit(principal, body.organization_id),
    )


@router.get("/wallet/deposits", response_model=Page[schemas.Deposit])
def list_deposits(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    organization_id: OrgQuery = None,
) -> Page[schemas.Deposit]:
    found = service.list_deposits(session, principal, organization_id, page.after_id, page.limit)
    return Page(
        items=[schemas.Deposit.model_validate(d) for d in found[: page.limit]],
        next_cursor=next_cursor([d.id for d in found], page.limit),
    )


@router.get("/wallet/deposits/{deposit_id}", response_model=schemas.Deposit)
def get_deposit(
    deposit_id: str, session: DbSession, principal: CurrentPrincipal
) -> schemas.Deposit:
    return schemas.Deposit.model_validate(service.get_deposit(session, principal, deposit_id))


@router.post("/webhooks/payments/{provider}", include_in_schema=True, status_code=200)
async def payment_webhook(
    provider: str,
    request: Request,
    session: DbSession,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> dict[str, str]:
    """Payment-provider events (HMAC-signed `t=<unix>,v1=<hex>` over `<t>.<body>`).
    Duplicates are acknowledged and change nothing."""
    body = await request.body()
    deposit = await run_in_threadpool(
        service.handle_deposit_webhook, session, provider, body, signature
    )
    return {"deposit_id": deposit.id, "status": deposit.status}


@router.get("/wallet", response_model=schemas.Wallet)
def wallet(
    session: DbSession, principal: CurrentPrincipal, organization_id: OrgQuery = None
) -> schemas.Wallet:
    """The organization's balances per currency: available, held in escrow, posted."""
    org, balances = service.wallet_balances(session, principal, organization_id)
    return schemas.Wallet(
        organization_id=org, balances=[schemas.Balance(**asdict(b)) for b in balances]
    )


def _csv(lines: list[service.StatementLine], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        row = asdict(line)
        row["created_at"] = line.created_at.isoformat()
        writer.writerow([row[c] if row[c] is not None else "" for c in CSV_COLUMNS])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/wallet/transactions", response_model=Page[schemas.StatementLine])
def wallet_transactions(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    currency: Currency = "CNY",
    organization_id: OrgQuery = None,
    format: Literal["json", "csv"] = "json",
) -> Page[schemas.StatementLine] | Response:
    """The wallet's statement, newest first, with the posted balance after each line;
    `format=csv` exports the whole statement for accounting."""
    org, lines = service.wallet_statement(
        session, principal, organization_id, currency, page.after_id, page.limit
    )
    shown = lines[: page.limit]
    if format == "csv":
        everything = service.export_all(
            lambda after, n: service.wallet_statement(
                session, principal, organization_id, currency, after, n
            )[1]
        )
        return _csv(everything, f"wallet-{org}-{currency}.csv")
    return Page(
        items=[schemas.StatementLine(**asdict(line)) for line in shown],
        next_cursor=next_cursor([line.id for line in lines], page.limit),
    )


@router.get("/earnings", response_model=schemas.Earnings)
def earnings(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    currency: Currency = "CNY",
    format: Literal["json", "csv"] = "json",
) -> schemas.Earnings | Response:
    """The calling creator's balances (pending, available, paid out) and earning lines."""
    summary = service.creator_earnings(session, principal)
    lines = service.creator_statement(session, principal, currency, page.after_id, page.limit)
    shown = lines[: page.limit]
    if format == "csv":
        everything = service.export_all(
            lambda after, n: service.creator_statement(session, principal, currency, after, n)
        )
        return _csv(everything, f"earnings-{summary['creator_id']}-{currency}.csv")
    return schemas.Earnings(
        creator_id=summary["creator_id"],
        balances=[schemas.EarningsBalance(**b) for b in summary["balances"]],
        lines=[schemas.StatementLine(**asdict(line)) for line in shown],
        next_cursor=next_cursor([line.id for line in lines], page.limit),
    )


@router.post("/payout-methods", status_code=201, response_model=schemas.PayoutMethod)
def add_payout_method(
    body: schemas.PayoutMethodCreate, session: DbSession, principal: CurrentPrincipal
) -> schemas.PayoutMethod:
    """Add where you are paid (creators). The account number is encrypted at rest and
    verified by the provider (sandbox: numbers ending 0000 fail)."""
    method = payouts.add_payout_method(
        session, principal, body.kind, body.holder_name, body.account_number
    )
    return schemas.PayoutMethod.model_validate(method)


@router.get("/payout-methods", response_model=Page[schemas.PayoutMethod])
def list_payout_methods(
    session: DbSession, principal: CurrentPrincipal
) -> Page[schemas.PayoutMethod]:
    methods = payouts.payout_methods(session, principal)
    return Page(items=[schemas.PayoutMethod.model_validate(m) for m in methods])


@router.post("/payouts", status_code=201, response_model=schemas.Payout)
def request_payout(
    body: schemas.PayoutCreate,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Pay out from your available balance (creators). The amount is held at once and sent
    by the payout provider; a failed payout returns the money. Honours Idempotency-Key."""

    def operation() -> schemas.Payout:
        payout = payouts.request_payout(
            session, principal, body.amount, body.currency, body.payout_method_id
        )
        return schemas.Payout.model_validate(payout)

    return run_idempotent(
        request,
        session,
        scope=principal.idempotency_scope,
        key=idempotency_key,
        payload=body.model_dump(),
        operation=operation,
        status_code=201,
        authorize=lambda: _authorize_creator(principal),
    )


@router.get("/payouts", response_model=Page[schemas.Payout])
def list_payouts(
    session: DbSession, principal: CurrentPrincipal, page: Paging
) -> Page[schemas.Payout]:
    found = payouts.list_payouts(session, principal, page.after_id, page.limit)
    return Page(
        items=[schemas.Payout.model_validate(p) for p in found[: page.limit]],
        next_cursor=next_cursor([p.id for p in found], page.limit),
    )


@router.get("/payouts/{payout_id}", response_model=schemas.Payout)
def get_payout(payout_id: str, session: DbSession, principal: CurrentPrincipal) -> schemas.Payout:
    return schemas.Payout.model_validate(payouts.get_payout(session, principal, payout_id))
