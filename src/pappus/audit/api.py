"""HTTP routes of the audit trail (staff)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query

from pappus.accounts.deps import CurrentPrincipal
from pappus.audit import service
from pappus.audit.schemas import AuditEntryView, VerificationView
from pappus.db import DbSession
from pappus.errors import InvalidInput
from pappus.kit.pagination import Page, PageParams, encode_cursor, page_params
from pappus.kit.routing import DomainRouter

router = DomainRouter(tags=["audit"])
Paging = Annotated[PageParams, Depends(page_params)]
CURSOR_PREFIX = "aud_"


def _before(page: PageParams) -> int | None:
    if page.after_id is None:
        return None
    number = page.after_id.removeprefix(CURSOR_PREFIX)
    if not number.isdigit():
        raise InvalidInput("cursor is not one this API issued", field="query.cursor")
    return int(number)


@router.get("/audit", response_model=Page[AuditEntryView])
def entries(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    subject_kind: Annotated[str | None, Query(max_length=32, examples=["order"])] = None,
    subject_id: Annotated[str | None, Query(max_length=120)] = None,
    action: Annotated[
        str | None, Query(max_length=64, description="An action or its prefix: order., ledger.")
    ] = None,
    actor_id: Annotated[str | None, Query(max_length=40)] = None,
    since: Annotated[datetime | None, Query(description="At or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="Before (ISO 8601)")] = None,
) -> Page[AuditEntryView]:
    """The audit trail, newest first, filtered (staff): every state change, approval, money
    movement, rule-pack change, vetting decision and read of personal data."""
    found = service.search(
        session,
        principal,
        subject_kind=subject_kind,
        subject_id=subject_id,
        action=action,
        actor_id=actor_id,
        since=since,
        until=until,
        before_id=_before(page),
        limit=page.limit,
    )
    items = [AuditEntryView.model_validate(e) for e in found[: page.limit]]
    more = len(found) > page.limit
    cursor = encode_cursor(f"{CURSOR_PREFIX}{items[-1].id}") if more and items else None
    return Page(items=items, next_cursor=cursor)


@router.get("/audit/verify", response_model=VerificationView)
def verify(session: DbSession, principal: CurrentPrincipal) -> VerificationView:
    """Recompute the whole chain and name the first edited, deleted or reordered entry (staff
    admins; the same check as `pappus audit verify`)."""
    principal.require_staff(admin=True)
    result = service.verify(session)
    return VerificationView(
        ok=result.ok,
        entries=result.entries,
        problem=result.problem,
        first_bad_sequence=result.first_bad_sequence,
        unsealed=result.unsealed,
    )
