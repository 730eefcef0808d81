"""Every query of the creators domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pappus.creators.models import CreatorProfile


def add(session: Session, profile: CreatorProfile) -> None:
    session.add(profile)
    session.flush()


def get(session: Session, creator_id: str) -> CreatorProfile | None:
    return session.get(CreatorProfile, creator_id)


def get_by_user(session: Session, user_id: str) -> CreatorProfile | None:
    return session.scalars(select(CreatorProfile).where(CreatorProfile.user_id == user_id)).first()


def id_for_user(session: Session, user_id: str) -> str | None:
    return session.scalars(
        select(CreatorProfile.id).where(CreatorProfile.user_id == user_id)
    ).first()


@dataclass(frozen=True)
class CreatorFilter:
    query: str | None = None
    min_followers: int | None = None
    max_followers: int | None = None  # exclusive
    category: str | None = None
    region: str | None = None
    available: bool | None = None


def search(
    session: Session, flt: CreatorFilter, *, after_id: str | None, limit: int
) -> Sequence[CreatorProfile]:
    """Newest first. JSON-array filters are applied in Python over a bounded scan for now;
    the discovery issue replaces this with indexed search."""
    query = select(CreatorProfile).order_by(CreatorProfile.id.desc())
    if flt.min_followers is not None:
        query = query.where(CreatorProfile.followers >= flt.min_followers)
    if flt.max_followers is not None:
        query = query.where(CreatorProfile.followers < flt.max_followers)
    if flt.available is not None:
        query = query.where(CreatorProfile.available.is_(flt.available))
    if flt.query:
        like = f"%{flt.query.lower()}%"
        query = query.where(
            or_(
                CreatorProfile.display_name.ilike(like),
                CreatorProfile.bio.ilike(like),
                CreatorProfile.handle.ilike(like),
            )
        )
    if after_id:
        query = query.where(CreatorProfile.id < after_id)
    if flt.category is None and flt.region is None:
        return session.scalars(query.limit(limit + 1)).all()
    found: list[CreatorProfile] = []
    for profile in session.scalars(query.execution_options(yield_per=500)):
        if flt.category is not None and flt.category not in (profile.categories or []):
            continue
        if flt.region is not None and flt.region not in (profile.regions or []):
            continue
        found.append(profile)
        if len(found) > limit:
            break
    return found
