"""Every query of the compliance domain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pappus.compliance.models import RulePackVersion


def pack_versions(session: Session) -> list[tuple[str, int, str]]:
    """(pack id, version, row id) of every stored version: small, read on every check."""
    rows = session.execute(
        select(RulePackVersion.pack_id, RulePackVersion.version, RulePackVersion.id)
    )
    return [(pack_id, version, row_id) for pack_id, version, row_id in rows]


def get_version(session: Session, row_id: str) -> RulePackVersion | None:
    return session.get(RulePackVersion, row_id)


def find_version(session: Session, pack_id: str, version: int) -> RulePackVersion | None:
    return session.scalar(
        select(RulePackVersion).where(
            RulePackVersion.pack_id == pack_id, RulePackVersion.version == version
        )
    )


def add(session: Session, row: RulePackVersion) -> None:
    session.add(row)
    session.flush()
