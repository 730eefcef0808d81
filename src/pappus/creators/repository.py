"""Every query of the creators domain."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pappus.creators.models import (
    ContactVerification,
    CreatorProfile,
    SavedSearch,
    Shortlist,
    ShortlistEntry,
)
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


# -- shortlists and saved searches ----------------------------------------------------------


def shortlists_of(
    session: Session, organization_ids: Sequence[str], *, after_id: str | None, limit: int
) -> list[tuple[Shortlist, int]]:
    """The organizations' shortlists, newest first, each with its number of creators."""
    if not organization_ids:
        return []
    counts = (
        select(ShortlistEntry.shortlist_id, func.count().label("n"))
        .group_by(ShortlistEntry.shortlist_id)
        .subquery()
    )
    query = (
        select(Shortlist, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.shortlist_id == Shortlist.id)
        .where(Shortlist.organization_id.in_(list(organization_ids)))
        .order_by(Shortlist.id.desc())
    )
    if after_id:
        query = query.where(Shortlist.id < after_id)
    return [(s, int(n)) for s, n in session.execute(query.limit(limit + 1)).all()]


def get_shortlist(session: Session, shortlist_id: str) -> Shortlist | None:
    return session.get(Shortlist, shortlist_id)


def count_entries(session: Session, shortlist_id: str) -> int:
    return int(
        session.scalar(select(func.count()).where(ShortlistEntry.shortlist_id == shortlist_id)) or 0
    )


def entries(
    session: Session, shortlist_id: str, *, after_id: str | None, limit: int
) -> list[tuple[ShortlistEntry, CreatorProfile]]:
    query = (
        select(ShortlistEntry, CreatorProfile)
        .join(CreatorProfile, CreatorProfile.id == ShortlistEntry.creator_id)
        .where(ShortlistEntry.shortlist_id == shortlist_id)
        .order_by(ShortlistEntry.id)
    )
    if after_id:
        query = query.where(ShortlistEntry.id > after_id)
    return [(e, p) for e, p in session.execute(query.limit(limit + 1)).all()]


def entry(session: Session, shortlist_id: str, creator_id: str) -> ShortlistEntry | None:
    return session.scalars(
        select(ShortlistEntry).where(
            ShortlistEntry.shortlist_id == shortlist_id, ShortlistEntry.creator_id == creator_id
        )
    ).first()


def entry_creator_ids(session: Session, shortlist_id: str) -> list[str]:
    return list(
        session.scalars(
            select(ShortlistEntry.creator_id).where(ShortlistEntry.shortlist_id == shortlist_id)
        )
    )


def saved_searches_of(
    session: Session, organization_ids: Sequence[str], *, after_id: str | None, limit: int
) -> Sequence[SavedSearch]:
    if not organization_ids:
        return []
    query = (
        select(SavedSearch)
        .where(SavedSearch.organization_id.in_(list(organization_ids)))
        .order_by(SavedSearch.id.desc())
    )
    if after_id:
        query = query.where(SavedSearch.id < after_id)
    return session.scalars(query.limit(limit + 1)).all()


def get_saved_search(session: Session, search_id: str) -> SavedSearch | None:
    return session.get(SavedSearch, search_id)


def delete(session: Session, obj: object) -> None:
    session.delete(obj)
    session.flush()


def with_vetting_status(
    session: Session, statuses: Sequence[str], after_id: str | None, limit: int
) -> Sequence[CreatorProfile]:
    """Profiles in any of the vetting statuses, by id (the staff queue pages on it)."""
    query = select(CreatorProfile).where(CreatorProfile.vetting_status.in_(list(statuses)))
    if after_id:
        query = query.where(CreatorProfile.id > after_id)
    return session.scalars(query.order_by(CreatorProfile.id).limit(limit + 1)).all()


# -- contact verification ----------------------------------------------------------------------


def get_for_update(session: Session, creator_id: str) -> CreatorProfile | None:
    return session.scalars(
        select(CreatorProfile).where(CreatorProfile.id == creator_id).with_for_update()
    ).first()


def add_verification(session: Session, verification: ContactVerification) -> None:
    session.add(verification)
    session.flush()


def verifications_since(
    session: Session, creator_id: str, since: datetime
) -> list[ContactVerification]:
    """The creator's codes sent after `since`, newest first (for the sending limits)."""
    return list(
        session.scalars(
            select(ContactVerification)
            .where(
                ContactVerification.creator_id == creator_id,
                ContactVerification.created_at >= since,
            )
            .order_by(ContactVerification.created_at.desc())
        )
    )


def pending_verification(session: Session, creator_id: str) -> ContactVerification | None:
    return session.scalars(
        select(ContactVerification)
        .where(
            ContactVerification.creator_id == creator_id,
            ContactVerification.status == "pending",
        )
        .order_by(ContactVerification.created_at.desc())
        .limit(1)
    ).first()


def supersede_pending_verifications(session: Session, creator_id: str) -> None:
    session.execute(
        update(ContactVerification)
        .where(
            ContactVerification.creator_id == creator_id,
            ContactVerification.status == "pending",
        )
        .values(status="superseded")
        .execution_options(synchronize_session="fetch")
    )
