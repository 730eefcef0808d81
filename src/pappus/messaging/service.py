"""Sending messages: queue in the caller's transaction, deliver after commit by a job.

Without PAPPUS_SMTP_URL (the embedded default) nothing leaves the machine: messages are kept
as `held`, and `pappus outbox` shows them to whoever runs the installation.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy.orm import Session

from pappus.config import Settings, get_settings
from pappus.db import Database, after_commit
from pappus.kit.clock import now
from pappus.messaging import repository as repo
from pappus.messaging.models import OutboundMessage
from pappus.messaging.transport import PermanentFailure, SmtpTransport, TemporaryFailure

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A claim older than this belongs to a worker that died mid-send; the message is tried again.
STALE_CLAIM = timedelta(minutes=10)
# The sweep leaves a queued message this long to its own job before it steps in.
SWEEP_GRACE = timedelta(minutes=2)


def queue_email(
    session: Session, *, to: str, subject: str, body: str, purpose: str, sensitive: bool = False
) -> str:
    """Write the message into the outbox; it is delivered only if this transaction commits."""
    message = OutboundMessage(
        channel="email",
        recipient=to,
        subject=subject,
        body=body,
        purpose=purpose,
        sensitive=sensitive,
    )
    repo.add(session, message)
    message_id = message.id
    after_commit(session, lambda: _enqueue(message_id))
    return message_id


def _enqueue(message_id: str) -> None:
    from pappus.messaging.tasks import deliver_message_job

    deliver_message_job(message_id)


def deliver(db: Database, message_id: str, settings: Settings | None = None) -> str:
    """One delivery attempt; returns the message's status after it. Safe to call twice: only
    the caller that claims the message sends it."""
    settings = settings or get_settings()
    at = now()
    with db.unit_of_work() as session:
        if not repo.claim(session, message_id, at, at - STALE_CLAIM):
            message = repo.get(session, message_id)
            return message.status if message is not None else "missing"
        message = repo.get(session, message_id)
        assert message is not None
        email = _email(message, settings.mail_from)
        attempts = message.attempts
        recipient = message.recipient
    if settings.smtp_url is None:
        with db.unit_of_work() as session:
            _finish(session, message_id, "held", None)
        logger.info(
            "message %s to %s held: no PAPPUS_SMTP_URL (see `pappus outbox`)", message_id, recipient
        )
        return "held"
    error: str | None = None
    try:
        SmtpTransport.from_url(settings.smtp_url, settings.smtp_timeout_seconds).send(email)
    except PermanentFailure as exc:
        status, error = "failed", str(exc)
    except TemporaryFailure as exc:
        status, error = ("failed" if attempts >= MAX_ATTEMPTS else "queued"), str(exc)
    else:
        status = "sent"
    with db.unit_of_work() as session:
        _finish(session, message_id, status, error)
    if error is not None:
        logger.warning("message %s to %s: %s (%s)", message_id, recipient, status, error)
    if status == "queued":
        raise TemporaryFailure(error)  # the job retries with its delay
    return status


def _finish(session: Session, message_id: str, status: str, error: str | None) -> None:
    message = repo.get(session, message_id)
    assert message is not None
    message.status = status
    message.last_error = error
    message.claimed_at = None
    if status == "sent":
        message.sent_at = now()
        if message.sensitive:
            message.body = ""
    session.flush()


def _email(message: OutboundMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    # Stable per outbox row, so a resend after a crash is recognisably the same message.
    email["Message-ID"] = make_msgid(idstring=message.id, domain="pappus.invalid")
    email.set_content(message.body)
    return email


def sweep(db: Database, limit: int = 100, settings: Settings | None = None) -> int:
    """Deliver what a lost job or a dead worker left behind; returns how many were tried."""
    at = now()
    with db.unit_of_work(write=False) as session:
        due = repo.due_ids(session, at - SWEEP_GRACE, at - STALE_CLAIM, limit)
    for message_id in due:
        try:
            deliver(db, message_id, settings)
        except TemporaryFailure:
            continue
    return len(due)


def outbox(
    session: Session, *, recipient: str | None = None, status: str | None = None, limit: int = 50
) -> list[OutboundMessage]:
    return list(repo.listing(session, recipient=recipient, status=status, limit=limit))
