"""HTTP routes of the ledger: wallet, deposits, the payment webhook, statements, earnings."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from pappus.accounts.deps import CurrentPrincipal
from pappus.db import DbSession
from pappus.kit.idempotency import run_idempotent
from pappus.kit.pagination import Page, PageParams, next_cursor, page_params
from pappus.ledger import schemas, service
from pappus.ledger.payments import SIGNATURE_HEADER

router = APIRouter(tags=["wallet"])
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
    `format=csv` for accounting (the page's lines; follow next_cursor for more)."""
    org, lines = service.wallet_statement(
        session, principal, organization_id, currency, page.after_id, page.limit
    )
    shown = lines[: page.limit]
    if format == "csv":
        return _csv(shown, f"wallet-{org}-{currency}.csv")
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
        return _csv(shown, f"earnings-{summary['creator_id']}-{currency}.csv")
    return schemas.Earnings(
        creator_id=summary["creator_id"],
        balances=[schemas.EarningsBalance(**b) for b in summary["balances"]],
        lines=[schemas.StatementLine(**asdict(line)) for line in shown],
        next_cursor=next_cursor([line.id for line in lines], page.limit),
    )
