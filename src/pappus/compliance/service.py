"""Compliance rules: which pack versions are in force, checking posts and drafts against them,
and staff adding new versions without a deploy."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from pappus.accounts.principal import Principal
from pappus.audit import service as audit
from pappus.compliance import repository as repo
from pappus.compliance.checker import CheckResult, Post, RuleEngine
from pappus.compliance.models import RulePackVersion
from pappus.compliance.packs import RulePack, shipped_packs
from pappus.errors import Conflict, InvalidInput, NotFound
from pappus.kit.clock import now


class PackVersionExists(Conflict):
    code = "pack_version_exists"
    title = "This version of the pack exists"


@dataclass(frozen=True)
class PackEntry:
    pack: RulePack
    origin: str  # "shipped" or "staff"
    row_id: str | None = None
    created_by: str | None = None
    created_at: datetime | None = None
    note: str = ""


_lock = threading.Lock()
_stored: dict[str, RulePack] = {}  # row id -> validated pack (rows never change)
_engines: dict[tuple[str, ...], RuleEngine] = {}


def _stored_pack(session: Session, row_id: str) -> RulePack:
    with _lock:
        pack = _stored.get(row_id)
    if pack is None:
        row = repo.get_version(session, row_id)
        assert row is not None
        pack = RulePack.model_validate(row.definition)
        with _lock:
            _stored[row_id] = pack
    return pack


def all_versions(session: Session) -> list[PackEntry]:
    """Every version of every pack, shipped and stored, by pack id then version."""
    entries = [PackEntry(p, "shipped") for p in shipped_packs()]
    for _pack_id, _version, row_id in repo.pack_versions(session):
        entries.append(PackEntry(_stored_pack(session, row_id), "staff", row_id))
    return sorted(entries, key=lambda e: (e.pack.id, e.pack.version))


def in_force(packs: Iterable[RulePack], day: date) -> list[RulePack]:
    """For each pack id, its highest version in force on `day`, by pack id."""
    chosen: dict[str, RulePack] = {}
    for pack in packs:
        if pack.in_force(day) and (pack.id not in chosen or pack.version > chosen[pack.id].version):
            chosen[pack.id] = pack
    return [chosen[k] for k in sorted(chosen)]


def active_packs(session: Session, day: date) -> list[RulePack]:
    """For each pack id, shipped or stored, its highest version in force on `day`."""
    return in_force((e.pack for e in all_versions(session)), day)


def engine_for(packs: list[RulePack]) -> RuleEngine:
    """The compiled engine of these pack versions (compiled once per process)."""
    key = tuple(p.key for p in packs)
    with _lock:
        engine = _engines.get(key)
    if engine is None:
        engine = RuleEngine(packs)
        with _lock:
            if len(_engines) > 32:
                _engines.clear()
            _engines[key] = engine
    return engine


def check(session: Session, post: Post) -> CheckResult:
    day = now().date()
    return engine_for(active_packs(session, day)).check(post, day)


def check_offline(post: Post, extra: list[RulePack] | None = None) -> CheckResult:
    """Check against the shipped packs (and `extra` ones) without a database: the CLI."""
    day = now().date()
    return engine_for(in_force([*shipped_packs(), *(extra or [])], day)).check(post, day)


def result_record(result: CheckResult, at: datetime) -> dict[str, Any]:
    """A check as stored on a draft (and as the API shows it)."""
    return {
        "checked_at": at.isoformat(),
        "packs": list(result.packs),
        "jurisdictions": list(result.jurisdictions),
        "blocking": result.blocking,
        "warnings": len(result.findings) - result.blocking,
        "findings": [asdict(f) for f in result.findings],
        "label_required": list(result.label_required),
    }


def check_draft(
    session: Session,
    *,
    title: str,
    body: str,
    hashtags: list[str],
    platform: str | None,
    category: str | None,
    brand: str | None,
) -> dict[str, Any]:
    """Check a submitted draft (sponsored by definition) and return the record to keep."""
    post = Post(
        text=body,
        title=title,
        hashtags=tuple(hashtags),
        platform=platform,
        category=category,
        sponsored=True,
        brand=brand,
    )
    return result_record(check(session, post), now())


# -- packs ----------------------------------------------------------------------------------


def find_pack(session: Session, pack_id: str, version: int | None) -> PackEntry:
    versions = [e for e in all_versions(session) if e.pack.id == pack_id]
    if not versions:
        raise NotFound(f"no rule pack {pack_id!r}")
    if version is None:
        active = {p.key for p in active_packs(session, now().date())}
        in_force = [e for e in versions if e.pack.key in active]
        return _with_row(session, in_force[0] if in_force else versions[-1])
    for entry in versions:
        if entry.pack.version == version:
            return _with_row(session, entry)
    raise NotFound(f"rule pack {pack_id!r} has no version {version}")


def _with_row(session: Session, entry: PackEntry) -> PackEntry:
    if entry.row_id is None:
        return entry
    row = repo.get_version(session, entry.row_id)
    assert row is not None
    return PackEntry(entry.pack, "staff", row.id, row.created_by, row.created_at, row.note)


def add_pack(session: Session, principal: Principal, definition: Any, note: str) -> PackEntry:
    """Store a new version of a pack (staff); it applies from its effective date."""
    principal.require_staff()
    try:
        pack = RulePack.model_validate(definition)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        field = f"pack.{where}" if where else "pack"
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from None
    existing = [e.pack.version for e in all_versions(session) if e.pack.id == pack.id]
    if existing and pack.version <= max(existing):
        raise PackVersionExists(
            f"{pack.id} is at version {max(existing)}; a new version must be higher",
            latest_version=max(existing),
        )
    row = RulePackVersion(
        pack_id=pack.id,
        version=pack.version,
        definition=pack.model_dump(mode="json"),
        note=note,
        created_by=principal.actor_id,
        created_at=now(),
    )
    repo.add(session, row)
    audit.record(
        session,
        "compliance.pack_added",
        "rule_pack",
        pack.key,
        actor=principal,
        data={"note": note, "effective_from": pack.effective_from.isoformat(), "row_id": row.id},
    )
    return PackEntry(pack, "staff", row.id, row.created_by, row.created_at, row.note)
