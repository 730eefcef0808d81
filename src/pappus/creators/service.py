"""Creator profile rules: creation at registration, self-editing, and what others may see."""

from __future__ import annotations

import gc
import logging
import threading
import weakref
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pappus.accounts.principal import Principal
from pappus.connectors import service as social
from pappus.creators import contact
from pappus.creators import repository as repo
from pappus.creators.models import CreatorProfile
from pappus.creators.schemas import (
    CreatorPrivate,
    CreatorPublic,
    CreatorUpdate,
    DiscoveryFacets,
    DiscoveryFilters,
    DiscoveryPage,
)
from pappus.creators.search import DiscoveryIndex, DiscoveryQuery, DiscoveryResult
from pappus.creators.taxonomy import tier_for
from pappus.db import Database
from pappus.errors import InvalidInput, NotFound
from pappus.kit.clock import now
from pappus.orders import service as orders

logger = logging.getLogger(__name__)


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


# Fields a creator may clear by sending null.
CLEARABLE = {"primary_platform", "handle", "contact_email", "media_kit_url"}


def update_profile(session: Session, creator_id: str, changes: CreatorUpdate) -> CreatorProfile:
    profile = get_profile(session, creator_id)
    data: dict[str, Any] = changes.model_dump(exclude_unset=True, mode="json")
    if data.get("followers") is not None and social.has_active_account(session, creator_id):
        raise InvalidInput(
            "followers come from your linked social account and cannot be set by hand",
            field="followers",
        )
    for name, value in data.items():
        if value is None and name not in CLEARABLE:
            continue
        if name == "contact_email" and value != profile.contact_email:
            # A new address is unproven: its verification, and any code in flight, go.
            contact.forget_verification(session, profile)
        setattr(profile, name, value)
    session.flush()
    return profile


def with_vetting_status(
    session: Session, statuses: Sequence[str], after_id: str | None, limit: int
) -> list[CreatorProfile]:
    """For the vetting queue: profiles in any of the statuses, one page (+1) by id."""
    return list(repo.with_vetting_status(session, statuses, after_id, limit))


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
        vetting_status=profile.vetting_status,
        audience=dict(profile.audience or {}),
        topics=list(profile.topics or []),
        last_active_at=profile.last_active_at,
        media_kit_url=profile.media_kit_url,
        content_examples=list(profile.content_examples or []),
        available=profile.available,
        contact_verified=profile.contact_email_verified_at is not None,
        created_at=profile.created_at,
    )


def to_private(profile: CreatorProfile) -> CreatorPrivate:
    return CreatorPrivate(
        **to_public(profile).model_dump(),
        rate_card=list(profile.rate_card or []),
        contact_email=profile.contact_email,
        contact_email_verified_at=profile.contact_email_verified_at,
    )


# -- discovery --------------------------------------------------------------------------------

_indexes: weakref.WeakKeyDictionary[Any, DiscoveryIndex] = weakref.WeakKeyDictionary()
_indexes_lock = threading.Lock()


def discovery_index(session: Session) -> DiscoveryIndex:
    """This process's index of the catalog behind `session`'s database, built on first use
    and caught up with changed profiles (at most once a second) before it answers."""
    bind = session.get_bind()
    pool = bind.pool if isinstance(bind, Engine) else bind.engine.pool  # one per Database
    with _indexes_lock:
        index = _indexes.get(pool)
        if index is None:
            index = _indexes[pool] = DiscoveryIndex()
    if not index.built:
        with index.lock:
            if not index.built:
                index.load(repo.catalog_rows(session, None))
                logger.info(
                    "discovery index built: %d creators in %.1f s",
                    index.size,
                    index.build_seconds or 0,
                )
        return index
    since = index.refresh_since()
    if since is not None:
        index.apply(repo.catalog_rows(session, since))
        if index.needs_compaction():
            _rebuild_in_background(pool, index, session.get_bind())
    return index


_rebuilding: set[int] = set()


def _rebuild_in_background(pool: Any, stale: DiscoveryIndex, bind: Any) -> None:
    """Build a fresh index (bulk postings, empty delta) beside the one in use and swap it in
    when done; searches go on against the old one meanwhile (memory doubles for that time).
    Rows changed during the build are caught by the new index's first refresh."""
    with _indexes_lock:
        if id(stale) in _rebuilding:
            return
        _rebuilding.add(id(stale))
    engine = bind if isinstance(bind, Engine) else bind.engine

    def build() -> None:
        try:
            fresh = DiscoveryIndex()
            with Session(engine) as session:
                fresh.load(repo.catalog_rows(session, None))
            with _indexes_lock:
                if _indexes.get(pool) is stale:
                    _indexes[pool] = fresh
            logger.info(
                "discovery index rebuilt to merge %d changed creators: %d in %.1f s",
                len(stale.delta_tokens),
                fresh.size,
                fresh.build_seconds or 0,
            )
        except Exception:  # the old index keeps serving; the next refresh tries again
            logger.exception("rebuilding the discovery index failed")
        finally:
            with _indexes_lock:
                _rebuilding.discard(id(stale))

    threading.Thread(target=build, name="pappus-discovery-rebuild", daemon=True).start()


def preload_discovery(db: Database, *, freeze_heap: bool = False) -> threading.Thread:
    """Build this process's discovery index in the background (at start, so the first
    search does not wait minutes at a million creators); `discovery_status` tells when.
    With `freeze_heap`, the index's objects are then moved out of the collector's reach
    (its dictionaries of a million entries would otherwise be walked by every full
    collection)."""

    def build() -> None:
        try:
            with db.unit_of_work(write=False) as session:
                discovery_index(session)
        except Exception:  # a failed preload leaves the build to the first search
            logger.exception("building the discovery index at start failed")
            return
        if freeze_heap:
            gc.collect()
            gc.freeze()

    thread = threading.Thread(target=build, name="pappus-discovery-preload", daemon=True)
    thread.start()
    return thread


def discovery_status(db: Database) -> str:
    """This process's index of `db`: ready, building, or not_built (nothing asked yet)."""
    with _indexes_lock:
        index = _indexes.get(db.engine.pool)
    if index is None:
        return "not_built"
    return "ready" if index.built else "building"


def discover(
    session: Session, principal: Principal, query: DiscoveryQuery, *, not_worked_with: bool
) -> tuple[DiscoveryResult, list[CreatorProfile]]:
    """Search the catalog: the page's profiles in order, with the total and facet counts."""
    if not_worked_with:
        worked_with = orders.creators_worked_with(session, principal)
        query = replace(query, exclude_ids=frozenset(worked_with))
    index = discovery_index(session)
    result = index.search(query, now())
    profiles = repo.get_many(session, result.ids)
    if len(profiles) < len(result.ids):
        # Deleted since the index saw them: unlist them and answer again without them.
        index.forget(set(result.ids) - {p.id for p in profiles})
        result = index.search(query, now())
        profiles = repo.get_many(session, result.ids)
    return result, profiles


def similar_creators(session: Session, creator_id: str, limit: int) -> list[CreatorProfile]:
    get_profile(session, creator_id)
    return repo.get_many(session, discovery_index(session).similar_to(creator_id, limit))


def to_query(
    filters: DiscoveryFilters,
    *,
    limit: int = 20,
    cursor: str | None = None,
    facets: bool = True,
    only_ids: frozenset[str] | None = None,
) -> DiscoveryQuery:
    """The index's query for validated filters; InvalidInput for combinations that mean
    nothing (a price range without a format, an age band without a share)."""
    f = filters
    if (f.audience_age is None) != (f.audience_age_min is None):
        raise InvalidInput(
            "audience_age and audience_age_min go together", field="audience_age_min"
        )
    if (f.min_price is not None or f.max_price is not None) and f.price_format is None:
        raise InvalidInput("a price range needs price_format", field="price_format")
    return DiscoveryQuery(
        text=f.q.strip() if f.q and f.q.strip() else None,
        platform=f.platform,
        tiers=tuple(f.tier or ()),
        min_followers=f.min_followers,
        max_followers=f.max_followers,
        min_engagement_bp=f.min_engagement_bp,
        max_engagement_bp=f.max_engagement_bp,
        categories=tuple(f.category or ()),
        regions=tuple(f.region or ()),
        languages=tuple(f.language or ()),
        audience_female_min=f.audience_female_min,
        audience_female_max=f.audience_female_max,
        audience_age=f.audience_age,
        audience_age_min=f.audience_age_min,
        audience_region=f.audience_region,
        audience_region_min=f.audience_region_min,
        price_format=f.price_format,
        min_price=f.min_price,
        max_price=f.max_price,
        min_quality=f.min_quality,
        vetting_statuses=tuple(f.vetting_status or ()),
        active_within_days=f.active_within_days,
        available=f.available,
        contact_verified=f.contact_verified,
        only_ids=only_ids,
        sort=f.sort,
        limit=limit,
        cursor=cursor,
        facets=facets,
    )


def discovery_page(
    session: Session,
    principal: Principal,
    filters: DiscoveryFilters,
    *,
    shortlist_id: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
    facets: bool = True,
) -> DiscoveryPage:
    only = None
    if shortlist_id is not None:
        from pappus.creators import shortlists

        only = frozenset(shortlists.creator_ids(session, principal, shortlist_id))
    query = to_query(filters, limit=limit, cursor=cursor, facets=facets, only_ids=only)
    result, profiles = discover(session, principal, query, not_worked_with=filters.not_worked_with)
    return DiscoveryPage(
        items=[to_public(p) for p in profiles],
        next_cursor=result.next_cursor,
        total=result.total,
        facets=DiscoveryFacets(**asdict(result.facets)) if result.facets else None,
    )
