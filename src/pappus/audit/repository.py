"""Every query of the audit domain."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from pappus.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from pappus.db import dialect_insert, execute_prebuilt

HEAD_ID = 1
ENTRIES: Table = AuditEntry.__table__  # type: ignore[assignment]


def lock_head(session: Session) -> tuple[int, str]:
    """The chain's head, locked until the transaction ends (created on first use: the
    migration creates it, but a database emptied by hand has none)."""
    query = (
        select(AuditHead.sequence, AuditHead.hash).where(AuditHead.id == HEAD_ID).with_for_update()
    )
    row = session.execute(query).first()
    if row is None:
        session.execute(
            dialect_insert(session, AuditHead.__table__)
            .values(id=HEAD_ID, sequence=0, hash=GENESIS_HASH)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        row = session.execute(query).one()
    return int(row.sequence), str(row.hash)


def head(session: Session) -> tuple[int, str]:
    row = session.execute(
        select(AuditHead.sequence, AuditHead.hash).where(AuditHead.id == HEAD_ID)
    ).first()
    return (0, GENESIS_HASH) if row is None else (int(row.sequence), str(row.hash))


_ENTRY_COLUMNS = ("at", "actor_kind", "actor_id", "action", "subject_kind", "subject_id", "data")
# Rows per INSERT: a request records one to a few entries; a long job's many go in statements
# of this many rows, so at most this many statement texts are ever compiled.
_ROWS_PER_INSERT = 20


@functools.cache
def _insert_entries(count: int) -> Executable:
    """One INSERT of `count` rows, their values bind parameters `{column}_{row}`. inline: no
    RETURNING of the new ids, which nothing reads. One statement of several rows rather than
    psycopg's executemany, whose pipeline mode costs more CPU than the statement itself for
    a request's two or three entries."""
    return (
        ENTRIES.insert()
        .inline()
        .values(
            [
                # typed: a bind parameter in a multi-row VALUES does not take its column's type
                {
                    name: bindparam(f"{name}_{n}", type_=ENTRIES.c[name].type)
                    for name in _ENTRY_COLUMNS
                }
                for n in range(count)
            ]
        )
    )


def insert_entries(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Unsealed entries, in the order given (their ids follow it), in as few Core statements
    as `_ROWS_PER_INSERT` allows (the ORM's bulk insert costs far more); on PostgreSQL
    psycopg sends them itself (`pappus.db.execute_prebuilt`: every money movement writes an
    entry)."""
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[start : start + _ROWS_PER_INSERT]
        values = {
            f"{name}_{n}": row[name] for n, row in enumerate(chunk) for name in _ENTRY_COLUMNS
        }
        execute_prebuilt(session, _insert_entries(len(chunk)), values)


def unsealed(session: Session, limit: int) -> list[AuditEntry]:
    """The oldest entries not yet in the chain (call with the head locked)."""
    query = (
        select(AuditEntry).where(AuditEntry.sequence.is_(None)).order_by(AuditEntry.id).limit(limit)
    )
    return list(session.scalars(query))


def seal(session: Session, sealed: Sequence[dict[str, Any]], sequence: int, hash_: str) -> None:
    """Give the entries their place in the chain and move the head."""
    # Core: one executemany UPDATE, not the ORM's bulk mode
    session.execute(
        update(ENTRIES)
        .where(ENTRIES.c.id == bindparam("entry_id"))
        .values(
            sequence=bindparam("new_sequence"),
            prev_hash=bindparam("new_prev_hash"),
            hash=bindparam("new_hash"),
        ),
        list(sealed),
    )
    session.execute(
        update(AuditHead).where(AuditHead.id == HEAD_ID).values(sequence=sequence, hash=hash_)
    )


def count_unsealed(session: Session) -> int:
    return int(session.scalar(select(func.count()).where(AuditEntry.sequence.is_(None))) or 0)


def chain(session: Session, batch: int = 5_000) -> Iterator[AuditEntry]:
    """Every sealed entry in chain order, streamed."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.sequence.is_not(None))
        .order_by(AuditEntry.sequence)
        .execution_options(yield_per=batch)
    )
    yield from session.scalars(query)


def search(
    session: Session,
    *,
    subject_kind: str | None,
    subject_id: str | None,
    action: str | None,
    actor_id: str | None,
    since: datetime | None,
    until: datetime | None,
    before_id: int | None,
    limit: int,
) -> list[AuditEntry]:
    """Entries matching every given filter, newest first (keyset on the id)."""
    query = select(AuditEntry)
    if subject_kind is not None:
        query = query.where(AuditEntry.subject_kind == subject_kind)
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == subject_id)
    if action is not None:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit + 1)))


def for_subjects(session: Session, subjects: Sequence[tuple[str, str]]) -> list[AuditEntry]:
    """Every entry about any of the (kind, id) subjects, in sequence order."""
    found: list[AuditEntry] = []
    for kind, ids in _group(subjects).items():
        found.extend(
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.subject_kind == kind, AuditEntry.subject_id.in_(ids)
                )
            )
        )
    return sorted(found, key=lambda e: e.id)


def _group(subjects: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for kind, subject_id in subjects:
        grouped.setdefault(kind, []).append(subject_id)
    return grouped
