"""HTTP routes of the compliance domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from pappus.accounts.deps import CurrentPrincipal
from pappus.compliance import service
from pappus.compliance.schemas import (
    CheckRequest,
    CheckResultView,
    PackCreate,
    PackSummary,
    PackView,
)
from pappus.db import DbSession
from pappus.kit.clock import now
from pappus.kit.pagination import Page
from pappus.kit.routing import DomainRouter

router = DomainRouter(tags=["compliance"])


@router.post("/compliance/check", response_model=CheckResultView)
def check(body: CheckRequest, session: DbSession, principal: CurrentPrincipal) -> CheckResultView:
    """Check a post against the rule packs in force: every finding with its span, rule, legal
    reference and a suggested fix. Changes nothing."""
    result = service.check(session, body.to_post())
    return CheckResultView.model_validate(service.result_record(result, now()))


def _summary(entry: service.PackEntry, active: set[str]) -> dict[str, object]:
    pack = entry.pack
    return {
        "id": pack.id,
        "version": pack.version,
        "title": pack.title,
        "jurisdiction": pack.jurisdiction,
        "platforms": pack.platforms,
        "effective_from": pack.effective_from,
        "effective_until": pack.effective_until,
        "origin": entry.origin,
        "in_force": pack.key in active,
        "rules": len(pack.rules),
    }


@router.get("/compliance/packs", response_model=Page[PackSummary])
def packs(
    session: DbSession,
    principal: CurrentPrincipal,
    all_versions: Annotated[bool, Query(description="Every version, not only those in force")] = (
        False
    ),
    jurisdiction: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
) -> Page[PackSummary]:
    """The rule packs: by default the version of each that checks use today."""
    active = {p.key for p in service.active_packs(session, now().date())}
    entries = [
        e
        for e in service.all_versions(session)
        if (all_versions or e.pack.key in active)
        and (jurisdiction is None or e.pack.jurisdiction == jurisdiction)
    ]
    return Page(items=[PackSummary.model_validate(_summary(e, active)) for e in entries])


@router.get("/compliance/packs/{pack_id}", response_model=PackView)
def pack(
    pack_id: str,
    session: DbSession,
    principal: CurrentPrincipal,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> PackView:
    """One pack with every rule: the version in force, or `version`."""
    entry = service.find_pack(session, pack_id, version)
    return _view(session, entry)


def _view(session: DbSession, entry: service.PackEntry) -> PackView:
    active = {p.key for p in service.active_packs(session, now().date())}
    return PackView.model_validate(
        {
            **_summary(entry, active),
            "definition": entry.pack.model_dump(mode="json"),
            "note": entry.note,
            "created_by": entry.created_by,
            "created_at": entry.created_at,
        }
    )


@router.post("/compliance/packs", status_code=201, response_model=PackView)
def add_pack(body: PackCreate, session: DbSession, principal: CurrentPrincipal) -> PackView:
    """Add a new version of a pack, or a new pack (staff). It is validated like the shipped
    packs; checks use it from its `effective_from` date, and record its version."""
    entry = service.add_pack(session, principal, body.pack, body.note)
    return _view(session, entry)
