"""The platform's audit trail: record what happened in the transaction that did it, seal it
into the hash chain soon after, and verify the chain.

Domains call `record(session, ...)` as they change things (order transitions and approvals,
money movements, rule-pack versions, vetting decisions). The entries wait in the session and are
inserted, in one statement, when it commits: an entry exists exactly when the change it records
does (a rollback, or a savepoint rolled back, drops it). Writing takes no lock, so audited
transactions (every ledger operation among them) do not queue behind one another.

`seal` then chains them: under a lock on the one-row head it gives the oldest unsealed entries
the next sequence numbers and each the hash of the one before, and moves the head. A periodic
job seals every minute, and `verify` seals nothing (it reports how many entries wait). So an
entry is tamper-evident from its sealing, at most about a minute after it was written; an entry
that commits late is simply sealed in a later batch. Reads of personal data are recorded by
`record_access`, in a short transaction of their own, before the data is returned.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from pappus.accounts.principal import Principal
from pappus.audit import repository as repo
from pappus.audit.models import GENESIS_HASH, AuditEntry
from pappus.db import Database
from pappus.kit.clock import now

_PENDING = "audit_pending"


@dataclass
class _Pending:
    at: datetime
    actor_kind: str
    actor_id: str | None
    action: str
    subject_kind: str
    subject_id: str
    data: dict[str, Any]
    transaction: SessionTransaction | None


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def entry_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(body)).hexdigest()


def _body(sequence: int, entry: _Pending | AuditEntry) -> dict[str, Any]:
    return {
        "sequence": sequence,
        "at": entry.at.isoformat(),
        "actor_kind": entry.actor_kind,
        "actor_id": entry.actor_id,
        "action": entry.action,
        "subject_kind": entry.subject_kind,
        "subject_id": entry.subject_id,
        "data": entry.data,
    }


def actor_of(principal: Principal | None) -> tuple[str, str | None]:
    if principal is None:
        return "system", None
    return ("staff" if principal.is_staff else principal.kind), principal.actor_id


def record(
    session: Session,
    action: str,
    subject_kind: str,
    subject_id: str,
    *,
    actor: Principal | None = None,
    actor_kind: str | None = None,
    actor_id: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Add an entry to the trail when this session's transaction commits."""
    kind, who = actor_of(actor) if actor is not None else (actor_kind or "system", actor_id)
    pending = _Pending(
        at=at or now(),
        actor_kind=kind,
        actor_id=who,
        action=action,
        subject_kind=subject_kind,
        subject_id=subject_id,
        # Stored as it will be read back, so the hash can be recomputed from the row.
        data=json.loads(canonical(data or {})),
        transaction=session.get_nested_transaction() or session.get_transaction(),
    )
    session.info.setdefault(_PENDING, []).append(pending)


def record_access(
    db: Database, principal: Principal, subject_kind: str, subject_id: str, what: str
) -> None:
    """Record that `principal` read personal data of the subject (its own transaction)."""
    with db.unit_of_work() as session:
        record(
            session,
            "personal_data.read",
            subject_kind,
            subject_id,
            actor=principal,
            data={"what": what},
        )


@event.listens_for(Session, "before_commit")
def _insert_pending(session: Session) -> None:
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    if pending:
        repo.insert_entries(
            session,
            [
                {
                    "at": p.at,
                    "actor_kind": p.actor_kind,
                    "actor_id": p.actor_id,
                    "action": p.action,
                    "subject_kind": p.subject_kind,
                    "subject_id": p.subject_id,
                    "data": p.data,
                }
                for p in pending
            ],
        )


SEAL_BATCH = 2_000


def seal(session: Session, limit: int = SEAL_BATCH) -> int:
    """Chain up to `limit` of the oldest unsealed entries; how many were sealed."""
    sequence, prev_hash = repo.lock_head(session)
    entries = repo.unsealed(session, limit)
    sealed = []
    for entry in entries:
        sequence += 1
        hashed = entry_hash(prev_hash, _body(sequence, entry))
        sealed.append(
            {
                "entry_id": entry.id,
                "new_sequence": sequence,
                "new_prev_hash": prev_hash,
                "new_hash": hashed,
            }
        )
        prev_hash = hashed
    if sealed:
        repo.seal(session, sealed, sequence, prev_hash)
    return len(sealed)


def seal_all(db: Database) -> int:
    """Seal every waiting entry, a batch per transaction (the periodic job, and tests)."""
    total = 0
    while True:
        with db.unit_of_work() as session:
            done = seal(session)
        total += done
        if done < SEAL_BATCH:
            return total


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous: SessionTransaction) -> None:
    """Entries recorded inside a transaction (or savepoint) that rolled back never happened."""
    pending: list[_Pending] = session.info.get(_PENDING, [])
    if not pending:
        return
    if previous.parent is None:  # the whole transaction: everything recorded in it goes
        session.info.pop(_PENDING, None)
        return
    session.info[_PENDING] = [p for p in pending if not _inside(p.transaction, previous)]


def _inside(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


# -- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    problem: str | None = None
    first_bad_sequence: int | None = None
    unsealed: int = 0  # written, not chained yet: sealed within about a minute


def verify(session: Session) -> Verification:
    """Recompute the chain from the first entry; the first edited, missing or reordered entry,
    or a head that does not point at the last entry, is named."""
    expected_sequence, prev_hash, checked = 1, GENESIS_HASH, 0
    for entry in repo.chain(session):
        number = entry.sequence or 0  # chain() yields sealed entries only
        where = f"entry {number} ({entry.action} on {entry.subject_kind} {entry.subject_id})"
        if number != expected_sequence:
            return Verification(
                False,
                checked,
                f"entry {expected_sequence} is missing: the next entry is {number}",
                expected_sequence,
            )
        if entry.prev_hash != prev_hash:
            return Verification(
                False,
                checked,
                f"{where} does not follow entry {number - 1}: the chain was reordered "
                "or an entry before it was replaced",
                number,
            )
        if entry.hash is None or entry_hash(prev_hash, _body(number, entry)) != entry.hash:
            return Verification(False, checked, f"{where} was changed after it was sealed", number)
        prev_hash, expected_sequence, checked = entry.hash, expected_sequence + 1, checked + 1
    head_sequence, head_hash = repo.head(session)
    if (head_sequence, head_hash) != (checked, prev_hash):
        return Verification(
            False,
            checked,
            f"the chain ends at entry {checked} but its head records entry {head_sequence}: "
            "entries were deleted from the end",
            checked + 1,
        )
    return Verification(True, checked, unsealed=repo.count_unsealed(session))


def search(
    session: Session,
    principal: Principal,
    *,
    subject_kind: str | None = None,
    subject_id: str | None = None,
    action: str | None = None,
    actor_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditEntry]:
    """The trail, newest first (staff)."""
    principal.require_staff()
    return repo.search(
        session,
        subject_kind=subject_kind,
        subject_id=subject_id,
        action=action,
        actor_id=actor_id,
        since=since,
        until=until,
        before_id=before_id,
        limit=limit,
    )


def entries_about(session: Session, subjects: list[tuple[str, str]]) -> Iterator[AuditEntry]:
    """Every entry about these subjects, oldest first (for an order's dossier)."""
    yield from repo.for_subjects(session, subjects)
