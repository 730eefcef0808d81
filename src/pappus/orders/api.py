"""HTTP routes of the orders domain: orders, drafts, publication, metrics, events, disputes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Header, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from pappus.accounts.deps import CurrentPrincipal, PrincipalOutsideTransaction
from pappus.audit import service as audit
from pappus.compliance.schemas import OverrideCreate
from pappus.db import DbSession
from pappus.kit.idempotency import run_idempotent
from pappus.kit.pagination import Page, PageParams, next_cursor, page_params
from pappus.kit.routing import DomainRouter
from pappus.orders import dossier as dossier_builder
from pappus.orders import publishing, schemas, service
from pappus.orders.workflow import GUARDS, TRANSITIONS, WORKFLOW_VERSION, State, mermaid

router = DomainRouter(tags=["orders"])
Paging = Annotated[PageParams, Depends(page_params)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="Replays return the first response"),
]


@router.get("/orders", response_model=Page[schemas.OrderSummary])
def list_orders(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    state: State | None = None,
    campaign_id: Annotated[str | None, Query(max_length=40)] = None,
    organization_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[schemas.OrderSummary]:
    """Orders the caller takes part in (staff: all), newest first."""
    found = service.list_orders(
        session,
        principal,
        state=state,
        campaign_id=campaign_id,
        organization_id=organization_id,
        after_id=page.after_id,
        limit=page.limit,
    )
    return Page(
        items=[service.summary(o) for o in found[: page.limit]],
        next_cursor=next_cursor([o.id for o in found], page.limit),
    )


@router.get("/orders/{order_id}", response_model=schemas.Order)
def get_order(order_id: str, session: DbSession, principal: CurrentPrincipal) -> schemas.Order:
    """The order with its state, frozen contract, deadlines and the actions the caller may
    take now (derived from the workflow's transition table)."""
    order = service.get_order(session, principal, order_id)
    return service.order_view(session, principal, order)


@router.get("/orders/{order_id}/drafts", response_model=Page[schemas.Draft])
def list_drafts(
    order_id: str, session: DbSession, principal: CurrentPrincipal, page: Paging
) -> Page[schemas.Draft]:
    found = service.list_drafts(session, principal, order_id, page.after_id, page.limit)
    return Page(
        items=[schemas.Draft.model_validate(d) for d in found[: page.limit]],
        next_cursor=next_cursor([d.id for d in found], page.limit),
    )


@router.post("/orders/{order_id}/drafts", status_code=201, response_model=schemas.Draft)
def submit_draft(
    order_id: str, body: schemas.DraftCreate, session: DbSession, principal: CurrentPrincipal
) -> schemas.Draft:
    """Submit a draft for the brand's review (the order's creator)."""
    return schemas.Draft.model_validate(service.submit_draft(session, principal, order_id, body))


@router.post("/orders/{order_id}/drafts/{draft_id}/approve", response_model=schemas.Draft)
def approve_draft(
    order_id: str,
    draft_id: str,
    session: DbSession,
    principal: CurrentPrincipal,
    body: schemas.Approval | None = None,
) -> schemas.Draft:
    draft = service.approve_draft(
        session, principal, order_id, draft_id, body.note if body else None
    )
    return schemas.Draft.model_validate(draft)


@router.post(
    "/orders/{order_id}/drafts/{draft_id}/compliance-override", response_model=schemas.Draft
)
def override_compliance(
    order_id: str,
    draft_id: str,
    body: OverrideCreate,
    session: DbSession,
    principal: CurrentPrincipal,
) -> schemas.Draft:
    """Allow the brand to approve a draft despite blocking compliance findings (staff), with a
    recorded reason; the brand's review deadline starts now."""
    draft = service.override_draft_compliance(session, principal, order_id, draft_id, body.reason)
    return schemas.Draft.model_validate(draft)


@router.post("/orders/{order_id}/drafts/{draft_id}/request-changes", response_model=schemas.Draft)
def request_changes(
    order_id: str,
    draft_id: str,
    body: schemas.ChangeRequest,
    session: DbSession,
    principal: CurrentPrincipal,
) -> schemas.Draft:
    """Ask for changes. Beyond the contract's revision limit this opens a dispute instead."""
    draft, _ = service.request_changes(session, principal, order_id, draft_id, body.feedback)
    return schemas.Draft.model_validate(draft)


@router.post("/orders/{order_id}/compliance-hold/release", response_model=schemas.Order)
def release_compliance_hold(
    order_id: str, body: schemas.HoldRelease, session: DbSession, principal: CurrentPrincipal
) -> schemas.Order:
    """Release the creator's payouts held because the order's post was taken down or lost its
    label within the retention period (staff, with a note)."""
    order = service.release_compliance_hold(session, principal, order_id, body.note)
    return service.order_view(session, principal, order)


@router.get(
    "/orders/{order_id}/dossier",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "The ZIP archive"}},
)
def dossier(
    order_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    """Everything about the order in one ZIP, for regulators and disputes: the contract, drafts
    with their compliance checks, approvals, publication checks, metrics, money movements, the
    audit entries, a human-readable summary.html and a manifest of sha256 sums. Anyone who may
    see the order; each export is itself recorded in the audit trail."""
    db = request.app.state.db
    # Seal what waits, so the export's audit entries carry their place in the chain.
    audit.seal_all(db)
    archive = dossier_builder.build(session, principal, order_id)
    audit.record_access(db, principal, "order", order_id, "dossier export")
    return Response(
        archive,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="order-{order_id}-dossier.zip"'},
    )


@router.post("/orders/{order_id}/publication", status_code=201, response_model=schemas.Publication)
def publish(
    order_id: str,
    body: schemas.PublicationCreate,
    request: Request,
    principal: PrincipalOutsideTransaction,
) -> schemas.Publication:
    """Submit the published post's URL (the order's creator); the measurement window starts.

    On a platform with a connector the post is read from the platform and verified first
    (exists, by the creator, after the order, close to the approved draft, with its hashtags
    and the brand-partnership label); a post that fails is refused with every check in
    `checks` and nothing changes."""
    publication = publishing.publish(request.app.state.db, principal, order_id, body)
    return schemas.Publication.model_validate(publication)


@router.get("/orders/{order_id}/publication", response_model=schemas.Publication)
def get_publication(
    order_id: str, session: DbSession, principal: CurrentPrincipal
) -> schemas.Publication:
    return schemas.Publication.model_validate(service.get_publication(session, principal, order_id))


@router.post("/orders/{order_id}/metrics", status_code=201, response_model=schemas.MetricSnapshot)
def record_metrics(
    order_id: str,
    body: schemas.MetricSnapshotCreate,
    session: DbSession,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """Record a cumulative metric snapshot (staff, or an API key with `metrics:write`).
    Re-sending the same snapshot is answered 200 with the stored one."""
    snapshot, created = service.record_metrics(session, principal, order_id, body)
    return JSONResponse(
        schemas.MetricSnapshot.model_validate(snapshot).model_dump(mode="json"),
        status_code=201 if created else 200,
    )


@router.post("/metrics/snapshots", response_model=schemas.MetricSnapshotBatchResult)
def ingest_metric_snapshots(
    body: schemas.MetricSnapshotBatch, session: DbSession, principal: CurrentPrincipal
) -> schemas.MetricSnapshotBatchResult:
    """Up to 5,000 cumulative snapshots of many orders at once (staff, or an API key with
    `metrics:write` for its organization's orders). Each item is judged alone: `created`,
    `duplicate` (the same snapshot is stored) or `rejected` with a code; a rejected item does
    not stop the others, so a retried batch is safe."""
    return service.ingest_snapshots(session, principal, body.snapshots)


@router.get("/orders/{order_id}/metrics", response_model=Page[schemas.MetricSnapshot])
def list_metrics(
    order_id: str, session: DbSession, principal: CurrentPrincipal, page: Paging
) -> Page[schemas.MetricSnapshot]:
    found = service.list_metrics(session, principal, order_id, page.after_id, page.limit)
    return Page(
        items=[schemas.MetricSnapshot.model_validate(m) for m in found[: page.limit]],
        next_cursor=next_cursor([m.id for m in found], page.limit),
    )


@router.get("/orders/{order_id}/events", response_model=Page[schemas.OrderEvent])
def list_events(
    order_id: str, session: DbSession, principal: CurrentPrincipal, page: Paging
) -> Page[schemas.OrderEvent]:
    """The order's append-only trail, oldest first; each event chains the previous one's hash."""
    found = service.list_events(session, principal, order_id, page.after_id, page.limit)
    return Page(
        items=[schemas.OrderEvent.model_validate(e) for e in found[: page.limit]],
        next_cursor=next_cursor([e.id for e in found], page.limit),
    )


@router.post("/orders/{order_id}/cancel", response_model=schemas.Order)
def cancel(
    order_id: str,
    body: schemas.CancelRequest,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Cancel before publication; the escrow is refunded by stage (see the contract).
    Honours Idempotency-Key."""

    def operation() -> schemas.Order:
        order = service.cancel(session, principal, order_id, body.reason)
        return service.order_view(session, principal, order)

    return run_idempotent(
        request,
        session,
        scope=principal.idempotency_scope,
        key=idempotency_key,
        payload=body.model_dump(),
        operation=operation,
        authorize=lambda: service.authorize_action(session, principal, order_id, "cancel"),
    )


@router.post("/orders/{order_id}/disputes", status_code=201, response_model=schemas.Dispute)
def open_dispute(
    order_id: str,
    body: schemas.DisputeCreate,
    session: DbSession,
    principal: CurrentPrincipal,
) -> schemas.Dispute:
    """Open a dispute; platform staff decide it. Deadlines stop while it is open."""
    return schemas.Dispute.model_validate(
        service.open_dispute(session, principal, order_id, body.reason)
    )


@router.get("/disputes", response_model=Page[schemas.Dispute])
def list_disputes(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    status: Literal["open", "resolved"] | None = None,
) -> Page[schemas.Dispute]:
    """The staff dispute queue."""
    found = service.list_disputes(session, principal, status, page.after_id, page.limit)
    return Page(
        items=[schemas.Dispute.model_validate(d) for d in found[: page.limit]],
        next_cursor=next_cursor([d.id for d in found], page.limit),
    )


@router.get("/disputes/{dispute_id}", response_model=schemas.Dispute)
def get_dispute(
    dispute_id: str, session: DbSession, principal: CurrentPrincipal
) -> schemas.Dispute:
    return schemas.Dispute.model_validate(service.get_dispute(session, principal, dispute_id))


@router.post("/disputes/{dispute_id}/resolve", response_model=schemas.Dispute)
def resolve_dispute(
    dispute_id: str,
    body: schemas.DisputeResolve,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Staff release the escrow to the creator, refund the brand, or split by a share.
    Honours Idempotency-Key."""

    def operation() -> schemas.Dispute:
        dispute, _ = service.resolve_dispute(session, principal, dispute_id, body)
        return schemas.Dispute.model_validate(dispute)

    return run_idempotent(
        request,
        session,
        scope=principal.idempotency_scope,
        key=idempotency_key,
        payload=body.model_dump(),
        operation=operation,
        authorize=principal.require_staff,
    )


@router.get("/workflow")
def workflow() -> dict[str, Any]:
    """The order workflow's transition table (actor, from, to, guard, timer)."""
    return {
        "version": WORKFLOW_VERSION,
        "transitions": [
            {
                "action": t.action,
                "actor": t.actor,
                "from": sorted(t.sources),
                "to": t.target,
                "guard": t.guard,
                "guard_description": GUARDS[t.guard][0] if t.guard else None,
                "timer": t.timer,
                "arms": list(t.arms),
                "payout": t.payout,
                "description": t.description,
            }
            for t in TRANSITIONS
        ],
    }


@router.get("/workflow/diagram", response_class=PlainTextResponse)
def workflow_diagram() -> str:
    """The workflow as a Mermaid state diagram."""
    return mermaid()
