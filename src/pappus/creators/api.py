"""HTTP routes of the creators domain: the creator's own profile and discovery."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from pappus.accounts.deps import CurrentPrincipal
from pappus.creators import service
from pappus.creators.schemas import (
    AgeBand,
    CreatorPrivate,
    CreatorPublic,
    CreatorUpdate,
    DiscoveryFacets,
    DiscoveryPage,
    Sort,
    Tier,
    VettingStatus,
)
from pappus.creators.search import DiscoveryQuery
from pappus.creators.taxonomy import Category, ContentFormat
from pappus.db import DbSession
from pappus.errors import InvalidInput
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


Floats = Annotated[float | None, Query(ge=0, le=1)]
Counts = Annotated[int | None, Query(ge=0, le=10**12)]


@router.get("/creators", response_model=DiscoveryPage)
def discover(
    session: DbSession,
    principal: CurrentPrincipal,
    q: Annotated[
        str | None,
        Query(
            max_length=100, description="Words over name, handle, bio and topics (中文 or English)"
        ),
    ] = None,
    platform: Annotated[str | None, Query(max_length=32)] = None,
    tier: Annotated[list[Tier] | None, Query(description="Any of")] = None,
    min_followers: Counts = None,
    max_followers: Counts = None,
    min_engagement_bp: Annotated[int | None, Query(ge=0, le=10_000)] = None,
    max_engagement_bp: Annotated[int | None, Query(ge=0, le=10_000)] = None,
    category: Annotated[list[Category] | None, Query(description="Any of")] = None,
    region: Annotated[list[str] | None, Query(description="Any of")] = None,
    language: Annotated[list[str] | None, Query(description="Any of")] = None,
    audience_female_min: Floats = None,
    audience_female_max: Floats = None,
    audience_age: AgeBand | None = None,
    audience_age_min: Floats = None,
    audience_region: Annotated[str | None, Query(max_length=64)] = None,
    audience_region_min: Floats = None,
    price_format: ContentFormat | None = None,
    min_price: Counts = None,
    max_price: Counts = None,
    min_quality: Annotated[int | None, Query(ge=0, le=100)] = None,
    vetting_status: Annotated[list[VettingStatus] | None, Query(description="Any of")] = None,
    active_within_days: Annotated[int | None, Query(ge=1, le=3650)] = None,
    not_worked_with: Annotated[
        bool, Query(description="Leave out creators your organizations have had orders with")
    ] = False,
    available: bool | None = None,
    sort: Annotated[
        Sort,
        Query(
            description="relevance (with q; otherwise followers), followers, engagement, "
            "quality: highest first; price, cpe (price / expected engagements, for "
            "price_format or image_post): lowest first"
        ),
    ] = "relevance",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=128, description="next_cursor from the previous page")
    ] = None,
    facets: bool = True,
) -> DiscoveryPage:
    """Find listed creators (1,000 followers or more): filters combine with AND, a list
    filter matches any of its values; facet counts cover every match; `next_cursor` pages
    on (keyset)."""
    for name, values in (("region", region), ("language", language)):
        if values and (len(values) > 20 or any(not v or len(v) > 64 for v in values)):
            raise InvalidInput(f"{name}: up to 20 values of 1 to 64 characters", field=name)
    if (audience_age is None) != (audience_age_min is None):
        raise InvalidInput(
            "audience_age and audience_age_min go together", field="audience_age_min"
        )
    if (min_price is not None or max_price is not None) and price_format is None:
        raise InvalidInput("a price range needs price_format", field="price_format")
    query = DiscoveryQuery(
        text=q.strip() if q and q.strip() else None,
        platform=platform,
        tiers=tuple(tier or ()),
        min_followers=min_followers,
        max_followers=max_followers,
        min_engagement_bp=min_engagement_bp,
        max_engagement_bp=max_engagement_bp,
        categories=tuple(category or ()),
        regions=tuple(region or ()),
        languages=tuple(language or ()),
        audience_female_min=audience_female_min,
        audience_female_max=audience_female_max,
        audience_age=audience_age,
        audience_age_min=audience_age_min,
        audience_region=audience_region,
        audience_region_min=audience_region_min,
        price_format=price_format,
        min_price=min_price,
        max_price=max_price,
        min_quality=min_quality,
        vetting_statuses=tuple(vetting_status or ()),
        active_within_days=active_within_days,
        available=available,
        sort=sort,
        limit=limit,
        cursor=cursor,
        facets=facets,
    )
    result, profiles = service.discover(session, principal, query, not_worked_with=not_worked_with)
    return DiscoveryPage(
        items=[service.to_public(p) for p in profiles],
        next_cursor=result.next_cursor,
        total=result.total,
        facets=DiscoveryFacets(**asdict(result.facets)) if result.facets else None,
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
