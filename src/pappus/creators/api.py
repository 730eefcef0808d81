"""HTTP routes of the creators domain: the creator's own profile and discovery."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from pappus.accounts.deps import CurrentPrincipal
from pappus.creators import service
from pappus.creators.schemas import CreatorPrivate, CreatorPublic, CreatorUpdate, Tier
from pappus.creators.taxonomy import Category
from pappus.db import DbSession
from pappus.kit.pagination import Page, PageParams, next_cursor, page_params
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


@router.get("/creators", response_model=Page[CreatorPublic])
def discover(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    q: Annotated[str | None, Query(max_length=100, description="Name, handle or bio")] = None,
    tier: Tier | None = None,
    category: Category | None = None,
    region: Annotated[str | None, Query(max_length=64)] = None,
    min_followers: Annotated[int | None, Query(ge=0, le=10**10)] = None,
    max_followers: Annotated[int | None, Query(ge=0, le=10**10)] = None,
    available: bool | None = None,
) -> Page[CreatorPublic]:
    """Listed creators (1,000 followers or more), newest first, with basic filters."""
    found = service.discover(
        session,
        query=q,
        tier=tier,
        min_followers=min_followers,
        max_followers=max_followers,
        category=category,
        region=region,
        available=available,
        after_id=page.after_id,
        limit=page.limit,
    )
    return Page(
        items=[service.to_public(p) for p in found[: page.limit]],
        next_cursor=next_cursor([p.id for p in found], page.limit),
    )


@router.get("/creators/{creator_id}", response_model=CreatorPrivate | CreatorPublic)
def get_creator(
    creator_id: str, session: DbSession, principal: CurrentPrincipal
) -> CreatorPrivate | CreatorPublic:
    """The public profile; contact details and rates only for the creator themselves, staff,
    and brands that have an order with them."""
    profile = service.get_profile(session, creator_id)
    if (
        principal.creator_id == creator_id
        or principal.is_staff
        or orders.brand_has_order_with(session, principal, creator_id)
    ):
        return service.to_private(profile)
    return service.to_public(profile)
