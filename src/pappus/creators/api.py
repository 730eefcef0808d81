"""HTTP routes of the creators domain: the creator's own profile and discovery."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from pappus.accounts.deps import CurrentPrincipal
from pappus.audit import service as audit
from pappus.creators import service
from pappus.creators.schemas import (
    CreatorPrivate,
    CreatorPublic,
    CreatorUpdate,
    DiscoveryFilters,
    DiscoveryPage,
)
from pappus.db import DbSession
from pappus.kit.pagination import Page, PageParams, page_params
from pappus.orders import service as orders

router = APIRouter(tags=["creators"])
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
