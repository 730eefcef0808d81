"""HTTP routes of the creators domain: the creator's own profile and discovery."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse

from pappus.accounts.deps import CurrentPrincipal
from pappus.audit import service as audit
from pappus.creators import contact, service
from pappus.creators.schemas import (
    ContactCodeIn,
    ContactVerificationOut,
    CreatorPrivate,
    CreatorPublic,
    CreatorUpdate,
    DiscoveryFilters,
    DiscoveryPage,
)
from pappus.db import DbSession
from pappus.errors import problem_for
from pappus.kit.pagination import Page, PageParams, page_params
from pappus.kit.routing import DomainRouter
from pappus.orders import service as orders

router = DomainRouter(tags=["creators"])
Paging = Annotated[PageParams, Depends(page_params)]


@router.get("/creators/me", response_model=CreatorPrivate)
def my_profile(session: DbSession, principal: CurrentPrincipal) -> CreatorPrivate:
    creator_id = principal.require_creator()
    return service.to_private(service.get_profile(session, creator_id))


@router.patch("/creators/me", response_model=CreatorPrivate)
def update_my_profile(
    body: CreatorUpdate, session: DbSession, principal: CurrentPrincipal
) -> CreatorPrivate:
    creator_id = principal.require_creator()
    return service.to_private(service.update_profile(session, creator_id, body))


@router.post(
    "/creators/me/contact/verification",
    response_model=ContactVerificationOut,
    status_code=202,
    responses={429: {"description": "A code was sent less than a minute ago, or 5 this hour"}},
)
def request_contact_verification(
    session: DbSession, principal: CurrentPrincipal
) -> ContactVerificationOut:
    """Send a 6-digit code to your contact email (valid 15 minutes, 5 tries); any earlier code
    stops working. Enter it with `POST /creators/me/contact/verification/confirm`."""
    creator_id = principal.require_creator()
    sent = contact.request_code(session, creator_id)
    verification = sent.verification
    return ContactVerificationOut(
        id=verification.id,
        channel="email",
        address=contact.mask_email(verification.address),
        expires_at=verification.expires_at,
        attempts_left=contact.attempts_left(verification),
        resend_after=sent.resend_after,
    )


@router.post(
    "/creators/me/contact/verification/confirm",
    response_model=CreatorPrivate,
    responses={
        409: {"description": "No code is waiting (none asked for, or the address changed)"},
        422: {"description": "Wrong, expired or used-up code (`attempts_left` tells)"},
    },
)
def confirm_contact_verification(
    body: ContactCodeIn, request: Request, session: DbSession, principal: CurrentPrincipal
) -> CreatorPrivate | JSONResponse:
    """Enter the code from the message: your contact email becomes verified, which brands
    see on your public profile (and can filter discovery by)."""
    creator_id = principal.require_creator()
    refusal = contact.confirm_code(session, creator_id, body.code)
    if refusal is not None:
        # Answered, not raised: the wrong try must be committed with the answer.
        return problem_for(refusal, request.url.path)
    return service.to_private(service.get_profile(session, creator_id))


@router.get("/creators", response_model=DiscoveryPage)
def discover(
    session: DbSession,
    principal: CurrentPrincipal,
    filters: Annotated[DiscoveryFilters, Query()],
    shortlist_id: Annotated[
        str | None, Query(max_length=64, description="Only creators on this shortlist")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=128, description="next_cursor from the previous page")
    ] = None,
    facets: bool = True,
) -> DiscoveryPage:
    """Find listed creators (1,000 followers or more): filters combine with AND, a list
    filter matches any of its values; facet counts cover every match; `next_cursor` pages
    on (keyset)."""
    return service.discovery_page(
        session,
        principal,
        filters,
        shortlist_id=shortlist_id,
        limit=limit,
        cursor=cursor,
        facets=facets,
    )


@router.get("/creators/{creator_id}/similar", response_model=Page[CreatorPublic])
def similar(
    creator_id: str,
    session: DbSession,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Page[CreatorPublic]:
    """Creators like this one: shared categories, a neighbouring tier, shared languages and
    regions, a similar audience and engagement. One page, most similar first."""
    found = service.similar_creators(session, creator_id, limit)
    return Page(items=[service.to_public(p) for p in found], next_cursor=None)


@router.get("/creators/{creator_id}", response_model=CreatorPrivate | CreatorPublic)
def get_creator(
    creator_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> CreatorPrivate | CreatorPublic:
    """The public profile; contact details and rates only for the creator themselves, staff,
    and brands that have an order with them."""
    profile = service.get_profile(session, creator_id)
    if principal.creator_id == creator_id:
        return service.to_private(profile)
    if principal.is_staff or orders.brand_has_order_with(session, principal, creator_id):
        audit.record_access(
            request.app.state.db, principal, "creator", creator_id, "contact, rates"
        )
        return service.to_private(profile)
    return service.to_public(profile)
