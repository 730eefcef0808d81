"""The audit trail: one append-only, hash-chained table for the whole platform."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pappus.db import Base

GENESIS_HASH = "0" * 64


class AuditEntry(Base):
    """One thing that happened. Written with the change it records, then sealed into the
    chain (sequence, prev_hash, hash) by `seal`, and never changed after that: each sealed
    entry carries the hash of the one before it, so an edited, deleted or reordered entry
    breaks the chain."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_subject", "subject_kind", "subject_id", "id"),
        Index("ix_audit_entries_actor", "actor_id", "id"),
        Index("ix_audit_entries_action", "action", "id"),
        Index("ix_audit_entries_unsealed", "sequence", "id"),
    )

    # Insertion order (SQLite needs INTEGER for its rowid to number the rows).
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    # The position in the chain, from 1, once sealed; commit order, not id order.
    sequence: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(120))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's last sequence and hash, in one row: sealing locks it, so sealed entries get
    consecutive numbers whatever the number of processes, and deleting entries from the end
    shows as a head that points past the last one."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sequence: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
