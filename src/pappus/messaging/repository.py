"""SQL of the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from pappus.messaging.models import OutboundMessage


def add(session: Session, message: OutboundMessage) -> None:
    session.add(message)
    session.flush()


def get(session: Session, message_id: str) -> OutboundMessage | None:
    return session.get(OutboundMessage, message_id)


def claim(session: Session, message_id: str, at: datetime, stale_before: datetime) -> bool:
    """Take the message for one delivery attempt; exactly one process wins a queued message
    (or a claim left stale by a worker that died mid-send)."""
    result = session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.id == message_id,
            or_(
                OutboundMessage.status == "queued",
                (OutboundMessage.status == "sending") & (OutboundMessage.claimed_at < stale_before),
            ),
        )
        .values(status="sending", claimed_at=at, attempts=OutboundMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def due_ids(
    session: Session, queued_before: datetime, stale_before: datetime, limit: int
) -> list[str]:
    """Messages the sweep should try: queued for a while (their job was lost or is retrying)
    or claimed by a worker that never finished."""
    stmt = (
        select(OutboundMessage.id)
        .where(
            or_(
                (OutboundMessage.status == "queued") & (OutboundMessage.created_at < queued_before),
                (OutboundMessage.status == "sending") & (OutboundMessage.claimed_at < stale_before),
            )
        )
        .order_by(OutboundMessage.created_at)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def listing(
    session: Session, *, recipient: str | None, status: str | None, limit: int
) -> Sequence[OutboundMessage]:
    stmt = select(OutboundMessage).order_by(OutboundMessage.created_at.desc()).limit(limit)
    if recipient is not None:
        stmt = stmt.where(OutboundMessage.recipient == recipient)
    if status is not None:
        stmt = stmt.where(OutboundMessage.status == status)
    return session.scalars(stmt).all()
