"""HTTP routes for shortlists and saved searches (brand side)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response

from pappus.accounts.deps import CurrentPrincipal
from pappus.accounts.principal import Access
from pappus.creators import service, shortlists
from pappus.creators.models import SavedSearch as SavedSearchRow
from pappus.creators.models import Shortlist as ShortlistRow
from pappus.creators.schemas import (
    DiscoveryFilters,
    DiscoveryPage,
    SavedSearch,
    SavedSearchCreate,
    Shortlist,
    ShortlistCreate,
    ShortlistEntry,
    ShortlistEntryBody,
    ShortlistUpdate,
)
from pappus.db import DbSession
from pappus.kit.pagination import Page, PageParams, next_cursor, page_params
from pappus.kit.routing import DomainRouter

router = DomainRouter(tags=["shortlists and saved searches"])
Paging = Annotated[PageParams, Depends(page_params)]


def _shortlist(row: ShortlistRow, creators: int) -> Shortlist:
    return Shortlist(
        id=row.id,
        organization_id=row.organization_id,
        name=row.name,
        description=row.description,
        creators=creators,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _saved(row: SavedSearchRow) -> SavedSearch:
    return SavedSearch(
        id=row.id,
        organization_id=row.organization_id,
        name=row.name,
        filters=row.filters,
        created_by=row.created_by,
        created_at=row.created_at,
    )


@router.post("/shortlists", status_code=201, response_model=Shortlist)
def create_shortlist(
    body: ShortlistCreate, session: DbSession, principal: CurrentPrincipal
) -> Shortlist:
    """A new, empty shortlist of the organization (members and up)."""
    return _shortlist(shortlists.create(session, principal, body), 0)


@router.get("/shortlists", response_model=Page[Shortlist])
def list_shortlists(
    session: DbSession, principal: CurrentPrincipal, page: Paging
) -> Page[Shortlist]:
    """Your organizations' shortlists, newest first."""
    found = shortlists.listed(session, principal, after_id=page.after_id, limit=page.limit)
    return Page(
        items=[_shortlist(s, n) for s, n in found[: page.limit]],
        next_cursor=next_cursor([s.id for s, _ in found], page.limit),
    )


@router.get("/shortlists/{shortlist_id}", response_model=Shortlist)
def get_shortlist(shortlist_id: str, session: DbSession, principal: CurrentPrincipal) -> Shortlist:
    found = shortlists.get(session, principal, shortlist_id, Access.read)
    return _shortlist(found, shortlists.count(session, found.id))


@router.patch("/shortlists/{shortlist_id}", response_model=Shortlist)
def update_shortlist(
    shortlist_id: str, body: ShortlistUpdate, session: DbSession, principal: CurrentPrincipal
) -> Shortlist:
    found = shortlists.update(session, principal, shortlist_id, body)
    return _shortlist(found, shortlists.count(session, found.id))


@router.delete("/shortlists/{shortlist_id}", status_code=204)
def delete_shortlist(
    shortlist_id: str, session: DbSession, principal: CurrentPrincipal
) -> Response:
    shortlists.remove(session, principal, shortlist_id)
    return Response(status_code=204)


@router.get("/shortlists/{shortlist_id}/creators", response_model=Page[ShortlistEntry])
def shortlist_creators(
    shortlist_id: str, session: DbSession, principal: CurrentPrincipal, page: Paging
) -> Page[ShortlistEntry]:
    """The creators on the shortlist, in the order they were added, with notes. To filter
    or sort them, use GET /creators?shortlist_id=..."""
    found = shortlists.entries(
        session, principal, shortlist_id, after_id=page.after_id, limit=page.limit
    )
    return Page(
        items=[
            ShortlistEntry(
                creator=service.to_public(profile),  # type: ignore[arg-type]
                note=entry.note,
                added_by=entry.added_by,
                added_at=entry.added_at,
            )
            for entry, profile in found[: page.limit]
        ],
        next_cursor=next_cursor([e.id for e, _ in found], page.limit),
    )


@router.put("/shortlists/{shortlist_id}/creators/{creator_id}", response_model=ShortlistEntry)
def add_to_shortlist(
    shortlist_id: str,
    creator_id: str,
    session: DbSession,
    principal: CurrentPrincipal,
    body: ShortlistEntryBody | None = None,
) -> ShortlistEntry:
    """Put a creator on the shortlist; again, it only updates the note."""
    note = body.note if body else ""
    entry = shortlists.add_creator(session, principal, shortlist_id, creator_id, note)
    return ShortlistEntry(
        creator=service.to_public(service.get_profile(session, creator_id)),
        note=entry.note,
        added_by=entry.added_by,
        added_at=entry.added_at,
    )


@router.delete("/shortlists/{shortlist_id}/creators/{creator_id}", status_code=204)
def remove_from_shortlist(
    shortlist_id: str, creator_id: str, session: DbSession, principal: CurrentPrincipal
) -> Response:
    shortlists.remove_creator(session, principal, shortlist_id, creator_id)
    return Response(status_code=204)


@router.post("/saved-searches", status_code=201, response_model=SavedSearch)
def save_search(
    body: SavedSearchCreate, session: DbSession, principal: CurrentPrincipal
) -> SavedSearch:
    """Keep discovery filters (the parameters of GET /creators) under a name."""
    saved = shortlists.save_search(
        session, principal, body.organization_id, body.name, body.filters
    )
    return _saved(saved)


@router.get("/saved-searches", response_model=Page[SavedSearch])
def list_saved_searches(
    session: DbSession, principal: CurrentPrincipal, page: Paging
) -> Page[SavedSearch]:
    found = shortlists.saved_searches(session, principal, after_id=page.after_id, limit=page.limit)
    return Page(
        items=[_saved(s) for s in found[: page.limit]],
        next_cursor=next_cursor([s.id for s in found], page.limit),
    )


@router.get("/saved-searches/{search_id}", response_model=SavedSearch)
def get_saved_search(
    search_id: str, session: DbSession, principal: CurrentPrincipal
) -> SavedSearch:
    return _saved(shortlists.get_search(session, principal, search_id, Access.read))


@router.delete("/saved-searches/{search_id}", status_code=204)
def delete_saved_search(
    search_id: str, session: DbSession, principal: CurrentPrincipal
) -> Response:
    shortlists.delete_search(session, principal, search_id)
    return Response(status_code=204)


@router.get("/saved-searches/{search_id}/results", response_model=DiscoveryPage)
def run_saved_search(
    search_id: str,
    session: DbSession,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=128)] = None,
) -> DiscoveryPage:
    """Run the saved filters now (the catalog has changed since they were saved)."""
    saved = shortlists.get_search(session, principal, search_id, Access.read)
    filters = DiscoveryFilters.model_validate(saved.filters)
    return service.discovery_page(session, principal, filters, limit=limit, cursor=cursor)
