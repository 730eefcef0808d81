"""The outbox: every message Pappus sends to a person, written in the transaction that decides
to send it and delivered by a job after commit, so a rollback sends nothing and a crash loses
nothing (delivery is at least once: a worker killed mid-send leaves the claim to go stale)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pappus.db import Base
from pappus.kit.clock import now
from pappus.kit.ids import new_id


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"
    __table_args__ = (
        # The delivery sweep reads what is still queued, oldest first.
        Index("ix_outbound_messages_status_created", "status", "created_at"),
        Index("ix_outbound_messages_recipient", "recipient"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("msg"))
    channel: Mapped[str] = mapped_column(String(16), default="email")
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    # Cleared once delivered when the message carries a secret (a verification code), so the
    # database keeps no usable code after the mail server has it.
    body: Mapped[str] = mapped_column(Text)
    sensitive: Mapped[bool] = mapped_column(default=False)
    # What sent it (e.g. contact_verification), for the operator's eyes.
    purpose: Mapped[str] = mapped_column(String(64))
    # queued -> sending -> sent | held (no mail server configured: kept for `pappus outbox`)
    # | queued again (a temporary failure) | failed (refused, or out of attempts)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    sent_at: Mapped[datetime | None]
