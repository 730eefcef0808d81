"""Shortlists (a brand's saved lists of creators) and saved searches (discovery filters kept
under a name). Both belong to an organization: members with write access change them,
anyone in the organization reads them, API keys need the campaigns scopes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pappus.accounts.principal import Access, Principal
from pappus.creators import repository as repo
from pappus.creators.models import SavedSearch, Shortlist, ShortlistEntry
from pappus.creators.schemas import SavedFilters, ShortlistCreate, ShortlistUpdate
from pappus.errors import Forbidden, NotFound
from pappus.kit.clock import now

READ, WRITE = "campaigns:read", "campaigns:write"


def _organization(principal: Principal, organization_id: str | None, need: Access) -> str:
    org = organization_id or principal.default_organization(need=need)
    principal.require_org(org, need, WRITE if need >= Access.write else READ, what="organization")
    return org


def create(session: Session, principal: Principal, body: ShortlistCreate) -> Shortlist:
    org = _organization(principal, body.organization_id, Access.write)
    shortlist = Shortlist(
        organization_id=org,
        name=body.name.strip() or body.name,
        description=body.description,
        created_by=principal.actor_id,
    )
    session.add(shortlist)
    session.flush()
    return shortlist


def _readable_organizations(principal: Principal) -> list[str]:
    if principal.scopes is not None and not principal.has_scope(READ):
        raise Forbidden(f"this API key lacks the '{READ}' scope", code="missing_scope")
    if not principal.roles and principal.kind == "creator":
        raise Forbidden("shortlists and saved searches belong to brands", code="brand_only")
    return list(principal.roles)


def listed(
    session: Session, principal: Principal, *, after_id: str | None, limit: int
) -> list[tuple[Shortlist, int]]:
    orgs = _readable_organizations(principal)
    return repo.shortlists_of(session, orgs, after_id=after_id, limit=limit)


def get(session: Session, principal: Principal, shortlist_id: str, need: Access) -> Shortlist:
    shortlist = repo.get_shortlist(session, shortlist_id)
    if shortlist is None:
        raise NotFound("shortlist not found")
    scope = WRITE if need >= Access.write else READ
    principal.require_org(shortlist.organization_id, need, scope, what="shortlist")
    return shortlist


def count(session: Session, shortlist_id: str) -> int:
    return repo.count_entries(session, shortlist_id)


def update(
    session: Session, principal: Principal, shortlist_id: str, body: ShortlistUpdate
) -> Shortlist:
    shortlist = get(session, principal, shortlist_id, Access.write)
    if body.name is not None:
        shortlist.name = body.name
    if body.description is not None:
        shortlist.description = body.description
    session.flush()
    return shortlist


def remove(session: Session, principal: Principal, shortlist_id: str) -> None:
    repo.delete(session, get(session, principal, shortlist_id, Access.write))


def add_creator(
    session: Session, principal: Principal, shortlist_id: str, creator_id: str, note: str
) -> ShortlistEntry:
    """Put a creator on the list (again: only the note changes)."""
    shortlist = get(session, principal, shortlist_id, Access.write)
    if repo.get(session, creator_id) is None:
        raise NotFound("creator not found")
    found = repo.entry(session, shortlist.id, creator_id)
    if found is None:
        found = ShortlistEntry(
            shortlist_id=shortlist.id, creator_id=creator_id, note=note, added_by=principal.actor_id
        )
        session.add(found)
    else:
        found.note = note
    shortlist.updated_at = now()
    session.flush()
    return found


def remove_creator(
    session: Session, principal: Principal, shortlist_id: str, creator_id: str
) -> None:
    shortlist = get(session, principal, shortlist_id, Access.write)
    found = repo.entry(session, shortlist.id, creator_id)
    if found is None:
        raise NotFound("this creator is not on the shortlist")
    repo.delete(session, found)


def entries(
    session: Session, principal: Principal, shortlist_id: str, *, after_id: str | None, limit: int
) -> list[tuple[ShortlistEntry, object]]:
    shortlist = get(session, principal, shortlist_id, Access.read)
    return list(repo.entries(session, shortlist.id, after_id=after_id, limit=limit))


def creator_ids(session: Session, principal: Principal, shortlist_id: str) -> list[str]:
    """For discovery's `shortlist_id` filter."""
    shortlist = get(session, principal, shortlist_id, Access.read)
    return repo.entry_creator_ids(session, shortlist.id)


# -- saved searches -------------------------------------------------------------------------


def save_search(
    session: Session,
    principal: Principal,
    organization_id: str | None,
    name: str,
    filters: SavedFilters,
) -> SavedSearch:
    from pappus.creators.service import to_query

    to_query(filters)  # refuse combinations that mean nothing now, not when it runs
    org = _organization(principal, organization_id, Access.write)
    saved = SavedSearch(
        organization_id=org,
        name=name,
        filters=filters.model_dump(mode="json", exclude_defaults=True),
        created_by=principal.actor_id,
    )
    session.add(saved)
    session.flush()
    return saved


def saved_searches(
    session: Session, principal: Principal, *, after_id: str | None, limit: int
) -> list[SavedSearch]:
    orgs = _readable_organizations(principal)
    return list(repo.saved_searches_of(session, orgs, after_id=after_id, limit=limit))


def get_search(session: Session, principal: Principal, search_id: str, need: Access) -> SavedSearch:
    saved = repo.get_saved_search(session, search_id)
    if saved is None:
        raise NotFound("saved search not found")
    scope = WRITE if need >= Access.write else READ
    principal.require_org(saved.organization_id, need, scope, what="saved search")
    return saved


def delete_search(session: Session, principal: Principal, search_id: str) -> None:
    repo.delete(session, get_search(session, principal, search_id, Access.write))
