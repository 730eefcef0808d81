"""Creator profile rules: creation at registration, self-editing, and what others may see."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pappus.creators import repository as repo
from pappus.creators.models import CreatorProfile
from pappus.creators.repository import CreatorFilter
from pappus.creators.schemas import CreatorPrivate, CreatorPublic, CreatorUpdate
from pappus.creators.taxonomy import tier_bounds, tier_for
from pappus.errors import NotFound

LISTING_FLOOR = 1_000  # creators under 1k followers are not listed in discovery


def create_profile(session: Session, *, user_id: str, display_name: str, contact_email: str) -> str:
    profile = CreatorProfile(
        user_id=user_id, display_name=display_name, contact_email=contact_email
    )
    repo.add(session, profile)
    return profile.id


def profile_id_for_user(session: Session, user_id: str) -> str | None:
    return repo.id_for_user(session, user_id)


def get_profile(session: Session, creator_id: str) -> CreatorProfile:
    profile = repo.get(session, creator_id)
    if profile is None:
        raise NotFound("creator not found")
    return profile


def update_profile(session: Session, creator_id: str, changes: CreatorUpdate) -> CreatorProfile:
    profile = get_profile(session, creator_id)
    data: dict[str, Any] = changes.model_dump(exclude_unset=True, mode="json")
    for name, value in data.items():
        if value is None and name not in {"primary_platform", "handle", "contact_email"}:
            continue
        setattr(profile, name, value)
    session.flush()
    return profile


def to_public(profile: CreatorProfile) -> CreatorPublic:
    return CreatorPublic(
        id=profile.id,
        display_name=profile.display_name,
        bio=profile.bio,
        categories=list(profile.categories or []),
        regions=list(profile.regions or []),
        languages=list(profile.languages or []),
        formats=list(profile.formats or []),
        primary_platform=profile.primary_platform,
        handle=profile.handle,
        followers=profile.followers,
        tier=tier_for(profile.followers),  # type: ignore[arg-type,unused-ignore]
        engagement_rate_bp=profile.engagement_rate_bp,
        audience_quality_score=profile.audience_quality_score,
        available=profile.available,
        created_at=profile.created_at,
    )


def to_private(profile: CreatorProfile) -> CreatorPrivate:
    return CreatorPrivate(
        **to_public(profile).model_dump(),
        rate_card=list(profile.rate_card or []),
        contact_email=profile.contact_email,
    )


def discover(
    session: Session,
    *,
    query: str | None,
    tier: str | None,
    min_followers: int | None,
    max_followers: int | None,
    category: str | None,
    region: str | None,
    available: bool | None,
    after_id: str | None,
    limit: int,
) -> list[CreatorProfile]:
    low = max(min_followers or 0, LISTING_FLOOR)
    high = max_followers + 1 if max_followers is not None else None
    if tier is not None:
        floor, ceiling = tier_bounds(tier)
        low = max(low, floor)
        high = ceiling if high is None else min(high, ceiling) if ceiling else high
    flt = CreatorFilter(
        query=query.strip() if query else None,
        min_followers=low,
        max_followers=high,
        category=category,
        region=region,
        available=available,
    )
    return list(repo.search(session, flt, after_id=after_id, limit=limit))
