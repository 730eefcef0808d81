"""The audit trail: one append-only, hash-chained table for the whole platform."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from pappus.db import Base

GENESIS_HASH = "0" * 64


class AuditEntry(Base):
    """One thing that happened. Never updated or deleted; each entry carries the hash of the
    one before it, so an edited, deleted or reordered entry breaks the chain."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_subject", "subject_kind", "subject_id", "sequence"),
        Index("ix_audit_entries_actor", "actor_id", "sequence"),
        Index("ix_audit_entries_action", "action", "sequence"),
    )

    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(120))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's last sequence and hash, in one row: appending locks it, so entries get
    consecutive numbers in commit order whatever the number of processes, and deleting entries
    from the end shows as a head that points past the last one."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sequence: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
