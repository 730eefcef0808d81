"""Campaign rules: briefs and their life cycle, the marketplace, applications and invitations,
and turning an accepted one into an order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pappus.accounts.principal import Access, Principal
from pappus.audit import service as audit
from pappus.campaigns import repository as repo
from pappus.campaigns import schemas
from pappus.campaigns.models import Application, Campaign, Invitation
from pappus.config import get_settings
from pappus.creators import service as creators
from pappus.creators.taxonomy import tier_for
from pappus.errors import Conflict, Forbidden, InvalidInput, NotFound
from pappus.kit.clock import now as clock_now
from pappus.orders import service as orders
from pappus.orders.models import Order
from pappus.orders.workflow import Actor


class CampaignNotInState(Conflict):
    code = "campaign_not_in_state"
    title = "Action not allowed in the campaign's current status"


class NotEligible(Forbidden):
    code = "not_eligible"
    title = "Creator does not meet the campaign's criteria"


class BudgetExceeded(Conflict):
    code = "budget_exceeded"
    title = "Campaign budget exceeded"


class OfferNotPending(Conflict):
    code = "not_pending"
    title = "No longer pending"


# The campaign life cycle as data: action -> (allowed from, to).
CAMPAIGN_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "open": (frozenset({"draft"}), "open"),
    "close": (frozenset({"open"}), "closed"),
    "reopen": (frozenset({"closed"}), "open"),
    "cancel": (frozenset({"draft", "open", "closed"}), "cancelled"),
    "complete": (frozenset({"closed"}), "completed"),
}
EDITABLE = frozenset({"draft", "open", "closed"})
ACCEPTING = frozenset({"open", "closed"})


# -- briefs ---------------------------------------------------------------------------------


def _campaign_for_brand(
    session: Session, principal: Principal, campaign_id: str, need: Access
) -> Campaign:
    campaign = repo.get(session, campaign_id)
    if campaign is None:
        raise NotFound("campaign not found")
    if principal.is_staff and need == Access.read:
        return campaign
    scope = "campaigns:read" if need == Access.read else "campaigns:write"
    principal.require_org(campaign.organization_id, need, scope, what="campaign")
    return campaign


def create_campaign(
    session: Session, principal: Principal, body: schemas.CampaignCreate
) -> Campaign:
    organization_id = body.organization_id or principal.default_organization()
    principal.require_org(organization_id, Access.write, "campaigns:write", what="organization")
    data = body.model_dump(mode="json", exclude={"organization_id"})
    for stamp in ("applications_close_at", "starts_at", "ends_at"):
        data[stamp] = getattr(body, stamp)
    campaign = Campaign(
        organization_id=organization_id, created_by=principal.user_id, status="draft", **data
    )
    repo.add(session, campaign)
    return campaign


def list_campaigns(
    session: Session,
    principal: Principal,
    *,
    organization_id: str | None,
    status: str | None,
    after_id: str | None,
    limit: int,
) -> list[Campaign]:
    if organization_id is not None:
        principal.require_org(organization_id, Access.read, "campaigns:read", what="organization")
        org_ids = [organization_id]
    else:
        if principal.scopes is not None and not principal.has_scope("campaigns:read"):
            raise Forbidden("this API key lacks the 'campaigns:read' scope", code="missing_scope")
        org_ids = list(principal.roles)
    if not org_ids:
        if principal.kind == "creator":
            raise Forbidden(
                "creators browse open campaigns at /api/v1/marketplace/campaigns",
                code="brand_only",
            )
        return []
    return list(
        repo.list_for_organizations(session, org_ids, status=status, after_id=after_id, limit=limit)
    )


def get_campaign(session: Session, principal: Principal, campaign_id: str) -> Campaign:
    return _campaign_for_brand(session, principal, campaign_id, Access.read)


def update_campaign(
    session: Session, principal: Principal, campaign_id: str, body: schemas.CampaignUpdate
) -> Campaign:
    campaign = _campaign_for_brand(session, principal, campaign_id, Access.write)
    if campaign.status not in EDITABLE:
        raise CampaignNotInState(f"a {campaign.status} campaign cannot be edited")
    changes = body.model_dump(mode="json", exclude_unset=True)
    for field in ("applications_close_at", "starts_at", "ends_at"):
        if field in changes:
            changes[field] = getattr(body, field)
    for field, value in changes.items():
        if value is None and field not in {"applications_close_at", "starts_at", "ends_at"}:
            raise InvalidInput(f"{field} cannot be null", field=field)
    merged = {**_brief_dict(campaign), **changes}
    try:
        schemas.CampaignCreate.model_validate(merged)
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(p) for p in err["loc"]),
                "message": err["msg"],
                "type": err["type"],
            }
            for err in exc.errors()
        ]
        raise InvalidInput(
            "the changed brief is inconsistent: "
            + "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors=errors,
        ) from None
    for field, value in changes.items():
        setattr(campaign, field, value)
    campaign.updated_at = clock_now()
    session.flush()
    return campaign


def _brief_dict(campaign: Campaign) -> dict[str, Any]:
    return {
        field: getattr(campaign, field)
        for field in schemas.CampaignCreate.model_fields
        if field != "organization_id"
    }


def _audit_decision(
    session: Session,
    principal: Principal,
    kind: str,
    subject_id: str,
    decision: str,
    order_id: str | None = None,
) -> None:
    data = {"order_id": order_id} if order_id else {}
    audit.record(session, f"{kind}.{decision}", kind, subject_id, actor=principal, data=data)


def change_status(
    session: Session, principal: Principal, campaign_id: str, action: str
) -> Campaign:
    campaign = _campaign_for_brand(session, principal, campaign_id, Access.write)
    sources, target = CAMPAIGN_TRANSITIONS[action]
    if campaign.status not in sources:
        raise CampaignNotInState(
            f"cannot {action} a campaign that is {campaign.status}",
            campaign_status=campaign.status,
        )
    at = clock_now()
    if action == "open":
        if campaign.budget_amount <= 0:
            raise InvalidInput("set budget_amount before opening", field="budget_amount")
        if campaign.ends_at is not None and campaign.ends_at <= at:
            raise InvalidInput("ends_at has already passed", field="ends_at")
        campaign.opened_at = campaign.opened_at or at
    if action in {"cancel", "complete"} and orders.active_order_count(session, campaign.id):
        raise CampaignNotInState(
            f"the campaign has active orders; cancel or finish them before you {action} it",
            code="campaign_has_active_orders",
        )
    if action == "close":
        campaign.closed_at = at
    elif action == "cancel":
        campaign.cancelled_at = at
        repo.close_pending_for_campaign(session, campaign.id, at)
    elif action == "complete":
        campaign.completed_at = at
    audit.record(
        session,
        f"campaign.{action}",
        "campaign",
        campaign.id,
        actor=principal,
        data={"from": campaign.status, "to": target},
        at=at,
    )
    campaign.status = target
    campaign.updated_at = at
    session.flush()
    return campaign


def committed_amounts(session: Session, campaigns: list[Campaign]) -> dict[str, int]:
    return orders.committed_escrow_by_campaign(session, [c.id for c in campaigns])


# -- marketplace ----------------------------------------------------------------------------


def marketplace(
    session: Session,
    principal: Principal,
    *,
    campaign_type: str | None,
    objective: str | None,
    query: str | None,
    after_id: str | None,
    limit: int,
) -> list[tuple[Campaign, str, bool]]:
    rows = repo.marketplace(
        session,
        now=clock_now(),
        campaign_type=campaign_type,
        objective=objective,
        query_text=query.strip() if query else None,
        after_id=after_id,
        limit=limit,
    )
    applied: set[str] = set()
    if principal.creator_id:
        applied = repo.applied_campaign_ids(session, principal.creator_id, [c.id for c, _ in rows])
    return [(c, name, c.id in applied) for c, name in rows]


def marketplace_campaign(
    session: Session, principal: Principal, campaign_id: str
) -> tuple[Campaign, str, bool]:
    """An open public campaign, or one the creator was invited to or applied to; the flag
    says whether the caller has applied."""
    campaign = repo.get(session, campaign_id)
    if campaign is None:
        raise NotFound("campaign not found")
    visible = campaign.status == "open" and campaign.visibility == "public"
    applied = invited = False
    if principal.creator_id:
        applied = bool(repo.applied_campaign_ids(session, principal.creator_id, [campaign.id]))
        invited = repo.is_invited(session, principal.creator_id, campaign.id)
    if campaign.organization_id in principal.roles:
        principal.require_org(
            campaign.organization_id, Access.read, "campaigns:read", what="campaign"
        )
    elif not (visible or applied or invited or principal.is_staff):
        raise NotFound("campaign not found")
    return campaign, repo.organization_name(session, campaign.organization_id), applied


# -- applications ---------------------------------------------------------------------------


def _check_eligible(session: Session, campaign: Campaign, creator_id: str) -> None:
    profile = creators.get_profile(session, creator_id)
    criteria = campaign.creator_criteria or {}
    tier = tier_for(profile.followers)
    if criteria.get("tiers") and tier not in criteria["tiers"]:
        raise NotEligible(
            f"this campaign is for {', '.join(criteria['tiers'])} creators; "
            f"you are {tier or 'under 1,000 followers'}",
        )
    if criteria.get("min_followers") and profile.followers < criteria["min_followers"]:
        raise NotEligible(f"this campaign needs at least {criteria['min_followers']} followers")
    if criteria.get("categories") and not set(criteria["categories"]) & set(
        profile.categories or []
    ):
        raise NotEligible(f"this campaign is for creators in {', '.join(criteria['categories'])}")
    quality = criteria.get("min_audience_quality")
    if quality and (profile.audience_quality_score or 0) < quality:
        raise NotEligible(f"this campaign needs an audience-quality score of {quality} or more")
    rate = criteria.get("min_engagement_rate_bp")
    if rate and (profile.engagement_rate_bp or 0) < rate:
        raise NotEligible(f"this campaign needs an engagement rate of {rate / 100:.2f}% or more")


def apply(
    session: Session, principal: Principal, campaign_id: str, body: schemas.ApplicationCreate
) -> Application:
    creator_id = principal.require_creator()
    campaign = repo.get(session, campaign_id)
    # Drafts and invite-only briefs are invisible to creators: the same 404 as a wrong id.
    if campaign is None or campaign.visibility != "public" or campaign.status == "draft":
        raise NotFound("campaign not found")
    at = clock_now()
    if campaign.status != "open":
        raise CampaignNotInState(f"the campaign is {campaign.status}, not open for applications")
    if campaign.applications_close_at is not None and campaign.applications_close_at <= at:
        raise CampaignNotInState(
            "applications for this campaign have closed", code="applications_closed"
        )
    if body.currency != campaign.currency:
        raise InvalidInput(
            f"quote in the campaign's currency, {campaign.currency}", field="currency"
        )
    _check_eligible(session, campaign, creator_id)
    ttl = timedelta(days=get_settings().application_ttl_days)
    application = Application(
        campaign_id=campaign.id,
        creator_id=creator_id,
        proposal=body.proposal,
        quote_amount=body.quote_amount,
        currency=body.currency,
        deliverables=[d.model_dump() for d in body.deliverables],
        status="pending",
        expires_at=at + ttl,
        created_at=at,
    )
    try:
        with session.begin_nested():
            repo.add(session, application)
    except IntegrityError:
        raise Conflict(
            "you have already applied to this campaign", code="already_applied"
        ) from None
    return application


def effective_status(status: str, expires_at: datetime) -> str:
    return "expired" if status == "pending" and expires_at <= clock_now() else status


def list_applications(
    session: Session,
    principal: Principal,
    campaign_id: str,
    status: str | None,
    after_id: str | None,
    limit: int,
) -> list[Application]:
    campaign = _campaign_for_brand(session, principal, campaign_id, Access.read)
    return list(
        repo.applications_for_campaign(
            session, campaign.id, status=status, after_id=after_id, limit=limit
        )
    )


def my_applications(
    session: Session, principal: Principal, status: str | None, after_id: str | None, limit: int
) -> list[Application]:
    creator_id = principal.require_creator()
    return list(
        repo.applications_for_creator(
            session, creator_id, status=status, after_id=after_id, limit=limit
        )
    )


def _application_for(
    session: Session, principal: Principal, application_id: str
) -> tuple[Application, Campaign]:
    found = repo.application_with_campaign(session, application_id)
    if found is None:
        raise NotFound("application not found")
    application, campaign = found
    if principal.creator_id == application.creator_id or principal.is_staff:
        return application, campaign
    principal.require_org(
        campaign.organization_id, Access.read, "campaigns:read", what="application"
    )
    return application, campaign


def get_application(session: Session, principal: Principal, application_id: str) -> Application:
    return _application_for(session, principal, application_id)[0]


def _decide(
    session: Session,
    offer: Application | Invitation,
    status: str,
    *,
    decided_by: str | None = None,
    note: str | None = None,
) -> None:
    """Record the decision, or refuse it when another decision on the offer committed since
    it was read as pending (a reject racing an accept would leave a rejected offer with an
    order)."""
    now_is = repo.decide_offer(
        session, offer, status, clock_now(), decided_by=decided_by, note=note
    )
    if now_is is None:
        return
    what = "application" if isinstance(offer, Application) else "invitation"
    if now_is == "deleted":
        raise NotFound(f"{what} not found")
    raise OfferNotPending(
        f"this {what} was {now_is} by another request meanwhile", current_status=now_is
    )


def _ensure_pending(status: str, expires_at: datetime, what: str) -> None:
    current = effective_status(status, expires_at)
    if current != "pending":
        raise OfferNotPending(f"this {what} is {current}", current_status=current)


def _order_terms(
    campaign: Campaign,
    creator_id: str,
    source_kind: str,
    source_id: str,
    price: int,
    deliverables: list[dict[str, Any]],
) -> orders.OrderTerms:
    brief = {
        "name": campaign.name,
        "description": campaign.description,
        "objective": campaign.objective,
        "campaign_type": campaign.campaign_type,
        "product": campaign.product,
        "key_messages": campaign.key_messages,
        "dos": campaign.dos,
        "donts": campaign.donts,
        "formats": campaign.formats,
        "platforms": campaign.platforms,
        "categories": campaign.categories,
        "target_audience": campaign.target_audience,
    }
    if not deliverables:
        deliverables = [
            {"format": f, "quantity": 1, "platform": (campaign.platforms or ["xiaohongshu"])[0]}
            for f in campaign.formats
        ]
    return orders.OrderTerms(
        campaign_id=campaign.id,
        campaign_name=campaign.name,
        organization_id=campaign.organization_id,
        creator_id=creator_id,
        source_kind=source_kind,
        source_id=source_id,
        currency=campaign.currency,
        price_amount=price,
        bonus_cap_amount=int((campaign.compensation or {}).get("bonus_cap_amount") or 0),
        brief=brief,
        deliverables=deliverables,
        kpis=list(campaign.kpis or []),
        timeline=dict(campaign.timeline or {}),
        usage_rights=dict(campaign.usage_rights or {}),
        compensation_model=campaign.compensation_model,
    )


def _check_budget(
    session: Session, campaign: repo.LockedCampaign, terms: orders.OrderTerms
) -> None:
    escrow = orders.quote_terms(terms.price_amount, terms.bonus_cap_amount)["escrow_amount"]
    committed = orders.committed_escrow(session, campaign.id)
    if committed + escrow > campaign.budget_amount:
        raise BudgetExceeded(
            f"this order needs {escrow} {campaign.currency} of escrow; the campaign has "
            f"{campaign.budget_amount - committed} of its budget left",
            needed=escrow,
            remaining=campaign.budget_amount - committed,
        )


def _start_order(
    session: Session,
    campaign: Campaign,
    terms: orders.OrderTerms,
    actor: Actor,
    actor_id: str | None,
    accepted: Callable[[Order], None],
) -> Order:
    """The order for an accepted offer. `accepted` marks the offer (and records its audit
    entry, inserted at commit) once the order exists, before the escrow hold: the hold locks
    the brand's wallet row until commit, so it comes last."""
    locked = repo.lock(session, campaign.id)
    assert locked is not None
    if locked.status not in ACCEPTING:
        raise CampaignNotInState(f"the campaign is {locked.status}")
    _check_budget(session, locked, terms)
    repo.supersede_siblings(session, locked.id, terms.creator_id, terms.source_kind, clock_now())
    return orders.create_order(session, terms, actor=actor, actor_id=actor_id, before_hold=accepted)


def authorize_application_decision(
    session: Session, principal: Principal, application_id: str
) -> tuple[Application, Campaign]:
    """Raise unless the caller may decide on the application; it and its campaign."""
    application, campaign = _application_for(session, principal, application_id)
    principal.require_org(
        campaign.organization_id, Access.write, "campaigns:write", what="application"
    )
    return application, campaign


def authorize_invitation_answer(
    session: Session, principal: Principal, invitation_id: str
) -> tuple[Invitation, Campaign]:
    """Raise unless the caller is the invited creator; the invitation and its campaign."""
    invitation, campaign = _invitation_for(session, principal, invitation_id)
    if principal.creator_id != invitation.creator_id:
        raise Forbidden("only the invited creator can answer an invitation")
    return invitation, campaign


def accept_application(
    session: Session, principal: Principal, application_id: str, note: str | None
) -> tuple[Application, Order]:
    application, campaign = _application_for(session, principal, application_id)
    principal.require_org(
        campaign.organization_id, Access.write, "campaigns:write", what="application"
    )
    _ensure_pending(application.status, application.expires_at, "application")
    terms = _order_terms(
        campaign,
        application.creator_id,
        "application",
        application.id,
        application.quote_amount,
        list(application.deliverables or []),
    )

    def accepted(order: Order) -> None:
        _decide(session, application, "accepted", decided_by=principal.actor_id, note=note)
        _audit_decision(session, principal, "application", application.id, "accepted", order.id)

    order = _start_order(session, campaign, terms, Actor.brand, principal.actor_id, accepted)
    return application, order


def reject_application(
    session: Session, principal: Principal, application_id: str, note: str | None
) -> Application:
    application, campaign = _application_for(session, principal, application_id)
    principal.require_org(
        campaign.organization_id, Access.write, "campaigns:write", what="application"
    )
    _ensure_pending(application.status, application.expires_at, "application")
    _decide(session, application, "rejected", decided_by=principal.actor_id, note=note)
    _audit_decision(session, principal, "application", application.id, "rejected")
    return application


def withdraw_application(
    session: Session, principal: Principal, application_id: str
) -> Application:
    application, _ = _application_for(session, principal, application_id)
    if principal.creator_id != application.creator_id:
        raise Forbidden("only the applicant can withdraw an application")
    _ensure_pending(application.status, application.expires_at, "application")
    _decide(session, application, "withdrawn")
    _audit_decision(session, principal, "application", application.id, "withdrawn")
    return application


# -- invitations ----------------------------------------------------------------------------


def invite(
    session: Session, principal: Principal, campaign_id: str, body: schemas.InvitationCreate
) -> Invitation:
    campaign = _campaign_for_brand(session, principal, campaign_id, Access.write)
    if campaign.status != "open":
        raise CampaignNotInState(f"open the campaign before inviting; it is {campaign.status}")
    creators.get_profile(session, body.creator_id)  # NotFound for unknown creators
    at = clock_now()
    days = body.expires_in_days or get_settings().invitation_ttl_days
    invitation = Invitation(
        campaign_id=campaign.id,
        creator_id=body.creator_id,
        message=body.message,
        offer_amount=body.offer_amount,
        currency=campaign.currency,
        deliverables=[d.model_dump() for d in body.deliverables],
        status="pending",
        expires_at=at + timedelta(days=days),
        created_by=principal.actor_id,
        created_at=at,
    )
    try:
        with session.begin_nested():
            repo.add(session, invitation)
    except IntegrityError:
        raise Conflict(
            "this creator was already invited to this campaign", code="already_invited"
        ) from None
    return invitation


def list_invitations(
    session: Session,
    principal: Principal,
    campaign_id: str,
    status: str | None,
    after_id: str | None,
    limit: int,
) -> list[Invitation]:
    campaign = _campaign_for_brand(session, principal, campaign_id, Access.read)
    return list(
        repo.invitations_for_campaign(
            session, campaign.id, status=status, after_id=after_id, limit=limit
        )
    )


def my_invitations(
    session: Session, principal: Principal, status: str | None, after_id: str | None, limit: int
) -> list[Invitation]:
    creator_id = principal.require_creator()
    return list(
        repo.invitations_for_creator(
            session, creator_id, status=status, after_id=after_id, limit=limit
        )
    )


def _invitation_for(
    session: Session, principal: Principal, invitation_id: str
) -> tuple[Invitation, Campaign]:
    found = repo.invitation_with_campaign(session, invitation_id)
    if found is None:
        raise NotFound("invitation not found")
    invitation, campaign = found
    if principal.creator_id == invitation.creator_id or principal.is_staff:
        return invitation, campaign
    principal.require_org(
        campaign.organization_id, Access.read, "campaigns:read", what="invitation"
    )
    return invitation, campaign


def get_invitation(session: Session, principal: Principal, invitation_id: str) -> Invitation:
    return _invitation_for(session, principal, invitation_id)[0]


def accept_invitation(
    session: Session, principal: Principal, invitation_id: str, note: str | None
) -> tuple[Invitation, Order]:
    invitation, campaign = _invitation_for(session, principal, invitation_id)
    if principal.creator_id != invitation.creator_id:
        raise Forbidden("only the invited creator can accept an invitation")
    _ensure_pending(invitation.status, invitation.expires_at, "invitation")
    terms = _order_terms(
        campaign,
        invitation.creator_id,
        "invitation",
        invitation.id,
        invitation.offer_amount,
        list(invitation.deliverables or []),
    )

    def accepted(order: Order) -> None:
        _decide(session, invitation, "accepted", note=note)
        _audit_decision(session, principal, "invitation", invitation.id, "accepted", order.id)

    order = _start_order(session, campaign, terms, Actor.creator, principal.actor_id, accepted)
    return invitation, order


def decline_invitation(
    session: Session, principal: Principal, invitation_id: str, note: str | None
) -> Invitation:
    invitation, _ = _invitation_for(session, principal, invitation_id)
    if principal.creator_id != invitation.creator_id:
        raise Forbidden("only the invited creator can decline an invitation")
    _ensure_pending(invitation.status, invitation.expires_at, "invitation")
    _decide(session, invitation, "declined", note=note)
    _audit_decision(session, principal, "invitation", invitation.id, "declined")
    return invitation


def revoke_invitation(session: Session, principal: Principal, invitation_id: str) -> Invitation:
    invitation, campaign = _invitation_for(session, principal, invitation_id)
    principal.require_org(
        campaign.organization_id, Access.write, "campaigns:write", what="invitation"
    )
    _ensure_pending(invitation.status, invitation.expires_at, "invitation")
    _decide(session, invitation, "revoked")
    _audit_decision(session, principal, "invitation", invitation.id, "revoked")
    return invitation


def expire_stale(session: Session) -> int:
    return repo.expire_pending(session, clock_now())


def order_ids_for(session: Session, source_ids: list[str]) -> dict[str, str]:
    return orders.order_ids_for_sources(session, source_ids)
