"""HTTP routes of the campaigns domain: briefs, marketplace, applications, invitations."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Body, Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from pappus.accounts.deps import CurrentPrincipal
from pappus.campaigns import schemas, service
from pappus.campaigns.models import Application, Campaign, Invitation
from pappus.db import DbSession
from pappus.kit.idempotency import run_idempotent
from pappus.kit.pagination import Page, PageParams, next_cursor, page_params
from pappus.kit.routing import DomainRouter
from pappus.orders import service as orders
from pappus.orders.schemas import OrderSummary

router = DomainRouter(tags=["campaigns"])
Paging = Annotated[PageParams, Depends(page_params)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="Replays return the first response"),
]
OfferStatus = Literal[
    "pending", "accepted", "rejected", "withdrawn", "declined", "revoked", "expired", "superseded"
]
DecisionBody = Annotated[schemas.Decision | None, Body()]


def _campaign(campaign: Campaign, committed: int = 0) -> schemas.Campaign:
    out = schemas.Campaign.model_validate(campaign)
    out.committed_amount = committed
    return out


def _application(app: Application, order_id: str | None = None) -> schemas.Application:
    out = schemas.Application.model_validate(app)
    out.status = service.effective_status(app.status, app.expires_at)
    out.order_id = order_id
    return out


def _invitation(inv: Invitation, order_id: str | None = None) -> schemas.Invitation:
    out = schemas.Invitation.model_validate(inv)
    out.status = service.effective_status(inv.status, inv.expires_at)
    out.order_id = order_id
    return out


@router.post("/campaigns", status_code=201, response_model=schemas.Campaign)
def create_campaign(
    body: schemas.CampaignCreate, session: DbSession, principal: CurrentPrincipal
) -> schemas.Campaign:
    """Create a campaign brief in `draft`; open it to publish it to the marketplace."""
    return _campaign(service.create_campaign(session, principal, body))


@router.get("/campaigns", response_model=Page[schemas.Campaign])
def list_campaigns(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    organization_id: Annotated[str | None, Query(max_length=40)] = None,
    status: schemas.CampaignStatus | None = None,
) -> Page[schemas.Campaign]:
    found = service.list_campaigns(
        session,
        principal,
        organization_id=organization_id,
        status=status,
        after_id=page.after_id,
        limit=page.limit,
    )
    shown = found[: page.limit]
    committed = service.committed_amounts(session, shown)
    return Page(
        items=[_campaign(c, committed.get(c.id, 0)) for c in shown],
        next_cursor=next_cursor([c.id for c in found], page.limit),
    )


@router.get("/campaigns/{campaign_id}", response_model=schemas.Campaign)
def get_campaign(
    campaign_id: str, session: DbSession, principal: CurrentPrincipal
) -> schemas.Campaign:
    campaign = service.get_campaign(session, principal, campaign_id)
    return _campaign(campaign, orders.committed_escrow(session, campaign.id))


@router.patch("/campaigns/{campaign_id}", response_model=schemas.Campaign)
def update_campaign(
    campaign_id: str,
    body: schemas.CampaignUpdate,
    session: DbSession,
    principal: CurrentPrincipal,
) -> schemas.Campaign:
    """Edit a draft, open or closed brief. Orders already made keep their frozen contracts."""
    campaign = service.update_campaign(session, principal, campaign_id, body)
    return _campaign(campaign, orders.committed_escrow(session, campaign.id))


def _status_route(action: str) -> Any:
    def handler(
        campaign_id: str, session: DbSession, principal: CurrentPrincipal
    ) -> schemas.Campaign:
        campaign = service.change_status(session, principal, campaign_id, action)
        return _campaign(campaign, orders.committed_escrow(session, campaign.id))

    handler.__name__ = f"{action}_campaign"
    handler.__doc__ = {
        "open": "Open the campaign: public ones appear on the marketplace; invitations can go out.",
        "close": "Stop taking applications; pending ones can still be decided.",
        "reopen": "Take applications again after closing.",
        "cancel": "Cancel the campaign (no active orders allowed); pending offers are closed.",
        "complete": "Mark a closed campaign whose orders have all ended as completed.",
    }[action]
    return handler


for _action in ("open", "close", "reopen", "cancel", "complete"):
    router.add_api_route(
        f"/campaigns/{{campaign_id}}/{_action}",
        _status_route(_action),
        methods=["POST"],
        response_model=schemas.Campaign,
        name=f"{_action}_campaign",
    )


@router.get("/marketplace/campaigns", response_model=Page[schemas.MarketplaceCampaign])
def marketplace(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    campaign_type: schemas.CampaignType | None = None,
    objective: schemas.Objective | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[schemas.MarketplaceCampaign]:
    """Open public campaigns that still take applications, newest first."""
    rows = service.marketplace(
        session,
        principal,
        campaign_type=campaign_type,
        objective=objective,
        query=q,
        after_id=page.after_id,
        limit=page.limit,
    )
    return Page(
        items=[_market(c, name, applied) for c, name, applied in rows[: page.limit]],
        next_cursor=next_cursor([c.id for c, _, _ in rows], page.limit),
    )


def _market(campaign: Campaign, brand_name: str, applied: bool) -> schemas.MarketplaceCampaign:
    fields = set(schemas.MarketplaceCampaign.model_fields) - {"brand_name", "already_applied"}
    data = {name: getattr(campaign, name) for name in fields}
    return schemas.MarketplaceCampaign(**data, brand_name=brand_name, already_applied=applied)


@router.get("/marketplace/campaigns/{campaign_id}", response_model=schemas.MarketplaceCampaign)
def marketplace_campaign(
    campaign_id: str, session: DbSession, principal: CurrentPrincipal
) -> schemas.MarketplaceCampaign:
    campaign, name, applied = service.marketplace_campaign(session, principal, campaign_id)
    return _market(campaign, name, applied)


@router.post(
    "/campaigns/{campaign_id}/applications",
    status_code=201,
    response_model=schemas.Application,
)
def apply(
    campaign_id: str,
    body: schemas.ApplicationCreate,
    session: DbSession,
    principal: CurrentPrincipal,
) -> schemas.Application:
    """Apply to an open public campaign with a proposal and a quote (creators)."""
    return _application(service.apply(session, principal, campaign_id, body))


@router.get("/campaigns/{campaign_id}/applications", response_model=Page[schemas.Application])
def list_applications(
    campaign_id: str,
    session: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    status: OfferStatus | None = None,
) -> Page[schemas.Application]:
    found = service.list_applications(
        session, principal, campaign_id, status, page.after_id, page.limit
    )
    shown = found[: page.limit]
    order_ids = service.order_ids_for(session, [a.id for a in shown])
    return Page(
        items=[_application(a, order_ids.get(a.id)) for a in shown],
        next_cursor=next_cursor([a.id for a in found], page.limit),
    )


@router.get("/applications", response_model=Page[schemas.Application])
def my_applications(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    status: OfferStatus | None = None,
) -> Page[schemas.Application]:
    """The calling creator's applications."""
    found = service.my_applications(session, principal, status, page.after_id, page.limit)
    shown = found[: page.limit]
    order_ids = service.order_ids_for(session, [a.id for a in shown])
    return Page(
        items=[_application(a, order_ids.get(a.id)) for a in shown],
        next_cursor=next_cursor([a.id for a in found], page.limit),
    )


@router.get("/applications/{application_id}", response_model=schemas.Application)
def get_application(
    application_id: str, session: DbSession, principal: CurrentPrincipal
) -> schemas.Application:
    app = service.get_application(session, principal, application_id)
    return _application(app, service.order_ids_for(session, [app.id]).get(app.id))


class AcceptedApplication(schemas.Application):
    order: OrderSummary


class AcceptedInvitation(schemas.Invitation):
    order: OrderSummary


@router.post(
    "/applications/{application_id}/accept",
    status_code=201,
    response_model=AcceptedApplication,
)
def accept_application(
    application_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
    body: DecisionBody = None,
) -> JSONResponse:
    """Accept an application: creates the order with its frozen contract and holds the
    escrow. Honours Idempotency-Key."""
    note = body.note if body else None

    def operation() -> AcceptedApplication:
        app, order = service.accept_application(session, principal, application_id, note)
        return AcceptedApplication(
            **_application(app, order.id).model_dump(), order=orders.summary(order)
        )

    return run_idempotent(
        request,
        session,
        scope=principal.idempotency_scope,
        key=idempotency_key,
        payload=body.model_dump() if body else None,
        operation=operation,
        status_code=201,
        authorize=lambda: service.authorize_application_decision(
            session, principal, application_id
        ),
    )


@router.post("/applications/{application_id}/reject", response_model=schemas.Application)
def reject_application(
    application_id: str,
    session: DbSession,
    principal: CurrentPrincipal,
    body: DecisionBody = None,
) -> schemas.Application:
    note = body.note if body else None
    return _application(service.reject_application(session, principal, application_id, note))


@router.post("/applications/{application_id}/withdraw", response_model=schemas.Application)
def withdraw_application(
    application_id: str, session: DbSession, principal: CurrentPrincipal
) -> schemas.Application:
    return _application(service.withdraw_application(session, principal, application_id))


@router.post(
    "/campaigns/{campaign_id}/invitations", status_code=201, response_model=schemas.Invitation
)
def invite(
    campaign_id: str,
    body: schemas.InvitationCreate,
    session: DbSession,
    principal: CurrentPrincipal,
) -> schemas.Invitation:
    """Invite a creator to an open campaign with an offer."""
    return _invitation(service.invite(session, principal, campaign_id, body))


@router.get("/campaigns/{campaign_id}/invitations", response_model=Page[schemas.Invitation])
def list_invitations(
    campaign_id: str,
    session: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    status: OfferStatus | None = None,
) -> Page[schemas.Invitation]:
    found = service.list_invitations(
        session, principal, campaign_id, status, page.after_id, page.limit
    )
    shown = found[: page.limit]
    order_ids = service.order_ids_for(session, [i.id for i in shown])
    return Page(
        items=[_invitation(i, order_ids.get(i.id)) for i in shown],
        next_cursor=next_cursor([i.id for i in found], page.limit),
    )


@router.get("/invitations", response_model=Page[schemas.Invitation])
def my_invitations(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    status: OfferStatus | None = None,
) -> Page[schemas.Invitation]:
    """Invitations the calling creator received."""
    found = service.my_invitations(session, principal, status, page.after_id, page.limit)
    shown = found[: page.limit]
    order_ids = service.order_ids_for(session, [i.id for i in shown])
    return Page(
        items=[_invitation(i, order_ids.get(i.id)) for i in shown],
        next_cursor=next_cursor([i.id for i in found], page.limit),
    )


@router.get("/invitations/{invitation_id}", response_model=schemas.Invitation)
def get_invitation(
    invitation_id: str, session: DbSession, principal: CurrentPrincipal
) -> schemas.Invitation:
    inv = service.get_invitation(session, principal, invitation_id)
    return _invitation(inv, service.order_ids_for(session, [inv.id]).get(inv.id))


@router.post(
    "/invitations/{invitation_id}/accept", status_code=201, response_model=AcceptedInvitation
)
def accept_invitation(
    invitation_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
    body: DecisionBody = None,
) -> JSONResponse:
    """Accept an invitation (the invited creator): creates the order and holds the escrow.
    Honours Idempotency-Key."""
    note = body.note if body else None

    def operation() -> AcceptedInvitation:
        inv, order = service.accept_invitation(session, principal, invitation_id, note)
        return AcceptedInvitation(
            **_invitation(inv, order.id).model_dump(), order=orders.summary(order)
        )

    return run_idempotent(
        request,
        session,
        scope=principal.idempotency_scope,
        key=idempotency_key,
        payload=body.model_dump() if body else None,
        operation=operation,
        status_code=201,
        authorize=lambda: service.authorize_invitation_answer(session, principal, invitation_id),
    )


@router.post("/invitations/{invitation_id}/decline", response_model=schemas.Invitation)
def decline_invitation(
    invitation_id: str,
    session: DbSession,
    principal: CurrentPrincipal,
    body: DecisionBody = None,
) -> schemas.Invitation:
    note = body.note if body else None
    return _invitation(service.decline_invitation(session, principal, invitation_id, note))


@router.post("/invitations/{invitation_id}/revoke", response_model=schemas.Invitation)
def revoke_invitation(
    invitation_id: str, session: DbSession, principal: CurrentPrincipal
) -> schemas.Invitation:
    return _invitation(service.revoke_invitation(session, principal, invitation_id))
