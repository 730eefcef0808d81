"""Every query of the creators domain."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pappus.creators.models import CreatorProfile
from pappus.creators.search import CatalogRow

_CATALOG_COLUMNS = [
    getattr(CreatorProfile, name)
    for name in CatalogRow.__dataclass_fields__  # the columns discovery reads, in its order
]


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


def catalog_rows(session: Session, since: datetime | None) -> Iterator[CatalogRow]:
    """Every profile (by id, for a build), or those changed at or after `since`, streamed."""
    query = select(*_CATALOG_COLUMNS)
    if since is None:
        query = query.order_by(CreatorProfile.id)
    else:
        query = query.where(CreatorProfile.updated_at >= since).order_by(
            CreatorProfile.updated_at, CreatorProfile.id
        )
    for row in session.execute(query.execution_options(yield_per=5_000)):
        yield CatalogRow(*row)


def get_many(session: Session, creator_ids: Sequence[str]) -> list[CreatorProfile]:
    """The profiles, in the order of `creator_ids` (missing ones skipped)."""
    if not creator_ids:
        return []
    found = {
        p.id: p
        for p in session.scalars(
            select(CreatorProfile).where(CreatorProfile.id.in_(list(creator_ids)))
        )
    }
    return [found[i] for i in creator_ids if i in found]
