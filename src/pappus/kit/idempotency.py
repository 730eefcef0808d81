"""Idempotency-Key for writes that create orders or move money.

The key is a unique row written in the same transaction as the effects, so an effect and its
recorded response commit together or not at all. A replay with the same body gets the first
response; the same key with another body is refused (422); a request still in flight with the
same key is refused (409) on PostgreSQL through a transaction-scoped advisory lock, and cannot
overlap on SQLite, whose writers are serialised by BEGIN IMMEDIATE.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import JSON, String, Table, UniqueConstraint, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from pappus.db import COMMITTED_EARLY, Base, execute_prebuilt, insert_unless_taken
from pappus.errors import Conflict, InvalidInput
from pappus.kit.clock import now
from pappus.kit.ids import new_id

MAX_KEY_LENGTH = 255


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("idk"))
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(512))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int]
    response_body: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=now)


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"
    title = "Idempotency-Key reused with a different request"


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"
    title = "A request with this Idempotency-Key is still in progress"


def request_fingerprint(method: str, path: str, payload: Any) -> str:
    body = json.dumps(jsonable_encoder(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


def _advisory_lock_key(scope: str, key: str) -> int:
    digest = hashlib.sha256(f"{scope}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _find(session: Session, scope: str, key: str) -> IdempotencyRecord | None:
    return session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    ).first()


def run_idempotent(
    request: Request,
    session: Session,
    *,
    scope: str,
    key: str | None,
    payload: Any,
    operation: Callable[[], Any],
    status_code: int = 200,
    authorize: Callable[[], object] | None = None,
) -> JSONResponse:
    """Run `operation` at most once per (scope, key) and answer replays with its response.

    `authorize` runs first, on replays too, so a caller who lost access since the first
    request cannot read its stored response. What it returns is held as long as the session:
    the identity map keeps only weak references, so rows the check loaded and returned are
    found there by `operation` instead of being read again.
    """
    if authorize is not None:
        session.info.setdefault("authorized", []).append(authorize())
    if key is None:
        body = _json_body(operation())
        _commit_now(session)
        return JSONResponse(body, status_code=status_code)
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
            field="header.Idempotency-Key",
        )
    fingerprint = request_fingerprint(request.method, request.url.path, payload)
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        [(acquired,)] = execute_prebuilt(
            session, _TRY_ADVISORY_LOCK, {"k": _advisory_lock_key(scope, key)}
        )
        if not acquired:
            raise IdempotencyInProgress("retry once the first request has finished")
    existing = _find(session, scope, key)
    if existing is not None:
        return _replay(existing, fingerprint)
    body = _json_body(operation())
    record = {
        "id": new_id("idk"),
        "scope": scope,
        "key": key,
        "method": request.method,
        "path": request.url.path,
        "request_hash": fingerprint,
        "response_status": status_code,
        "response_body": body,
        "created_at": now(),
    }
    # The advisory lock (PostgreSQL) or the write lock (SQLite) already keeps a second request
    # with this key out; the unique row is the last line of defence. ON CONFLICT rather than a
    # savepoint: one round trip, not three, and the transaction stays usable.
    if not execute_prebuilt(session, _INSERT_RECORD[bind.dialect.name], record):
        raise IdempotencyInProgress("retry once the first request has finished")
    _commit_now(session)
    return JSONResponse(body, status_code=status_code)


# Built once: every write with a key sends them.
_TRY_ADVISORY_LOCK = text("SELECT pg_try_advisory_xact_lock(:k)")
_RECORDS: Table = IdempotencyRecord.__table__  # type: ignore[assignment]
_INSERT_RECORD = insert_unless_taken(_RECORDS, ["scope", "key"])


def _commit_now(session: Session) -> None:
    """Commit the request's transaction here, in the thread that ran the operation, once its
    response is ready; the request scope's own commit then has nothing left to do.

    A money-moving write holds row locks until it commits: a brand's wallet row, which every
    accept and cancel of that brand needs. Left to the request scope, the commit would wait
    for the endpoint to return to the event loop and for another thread hop, behind whatever
    else the worker is doing, with the locks (and SQLite's write lock) held all along.
    """
    session.commit()
    session.info[COMMITTED_EARLY] = True


def _json_body(result: Any) -> Any:
    """The response body as JSON types. A pydantic model serializes itself in compiled code,
    as `jsonable_encoder` would (by alias), without its walk over every value again."""
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json", by_alias=True)
    return jsonable_encoder(result)


def _replay(record: IdempotencyRecord, fingerprint: str) -> JSONResponse:
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for a different request; use a new key",
            field="header.Idempotency-Key",
        )
    return JSONResponse(
        record.response_body,
        status_code=record.response_status,
        headers={"Idempotent-Replayed": "true"},
    )
