"""Mail delivery from the outbox to a real SMTP server (aiosmtpd on 127.0.0.1): sent once,
held without a server, retried on temporary failures, given up on refusals and after its
attempts, and taken over from a worker that died mid-send."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pydantic import ValidationError

from pappus.config import Settings
from pappus.db import Database
from pappus.kit.clock import clock
from pappus.messaging import repository as repo
from pappus.messaging import service as messaging
from pappus.messaging.transport import SmtpTransport, TemporaryFailure


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    """An SMTP server's handler: keeps what it accepts, refuses addresses at `refused.test`."""

    def __init__(self) -> None:
        self.received: list[Any] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.endswith("@refused.test"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, str]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


def queue(db: Database, to: str = "lin@example.com", sensitive: bool = True) -> str:
    with db.unit_of_work() as session:
        return messaging.queue_email(
            session,
            to=to,
            subject="Your code",
            body="Your code is 123456.\n",
            purpose="contact_verification",
            sensitive=sensitive,
        )


def stored(db: Database, message_id: str) -> Any:
    with db.unit_of_work(write=False) as session:
        message = repo.get(session, message_id)
        assert message is not None
        session.expunge(message)
        return message


def test_sent_once_to_the_server_and_the_code_is_not_kept(
    db: Database, smtp: tuple[Inbox, str]
) -> None:
    inbox, url = smtp
    settings = Settings(smtp_url=url, mail_from="Pappus <no-reply@pappus.test>")
    message_id = queue(db)
    assert messaging.deliver(db, message_id, settings) == "sent"
    assert messaging.deliver(db, message_id, settings) == "sent"  # a replayed job sends nothing
    assert len(inbox.received) == 1
    mail = inbox.received[0]
    assert mail["To"] == "lin@example.com"
    assert mail["From"] == "Pappus <no-reply@pappus.test>"
    assert message_id in mail["Message-ID"]
    assert "123456" in mail.get_payload(decode=True).decode()
    message = stored(db, message_id)
    assert message.status == "sent" and message.sent_at is not None and message.attempts == 1
    assert message.body == ""  # sensitive: the database keeps no usable code


def test_a_plain_message_keeps_its_body(db: Database, smtp: tuple[Inbox, str]) -> None:
    _, url = smtp
    message_id = queue(db, sensitive=False)
    assert messaging.deliver(db, message_id, Settings(smtp_url=url)) == "sent"
    assert stored(db, message_id).body == "Your code is 123456.\n"


def test_a_refused_recipient_fails_for_good(db: Database, smtp: tuple[Inbox, str]) -> None:
    inbox, url = smtp
    message_id = queue(db, to="nobody@refused.test")
    assert messaging.deliver(db, message_id, Settings(smtp_url=url)) == "failed"
    message = stored(db, message_id)
    assert message.status == "failed" and "550" in (message.last_error or "")
    assert inbox.received == []
    assert messaging.deliver(db, message_id, Settings(smtp_url=url)) == "failed"  # not retried


def test_an_unreachable_server_is_retried_then_given_up(db: Database) -> None:
    settings = Settings(smtp_url=f"smtp://127.0.0.1:{free_port()}", smtp_timeout_seconds=2)
    message_id = queue(db)
    for attempt in range(1, messaging.MAX_ATTEMPTS):
        with pytest.raises(TemporaryFailure):
            messaging.deliver(db, message_id, settings)
        message = stored(db, message_id)
        assert message.status == "queued" and message.attempts == attempt
        assert message.last_error
    assert messaging.deliver(db, message_id, settings) == "failed"
    assert stored(db, message_id).attempts == messaging.MAX_ATTEMPTS


def test_the_sweep_takes_over_lost_jobs_and_dead_workers(
    db: Database, smtp: tuple[Inbox, str]
) -> None:
    inbox, url = smtp
    settings = Settings(smtp_url=url)
    lost = queue(db)  # its job never ran
    dying = queue(db, to="kai@example.com")
    with db.unit_of_work() as session:  # a worker claimed it, then died before sending
        assert repo.claim(session, dying, clock.now(), clock.now() - messaging.STALE_CLAIM)
    with db.unit_of_work() as session:  # a second claim of a live claim loses
        assert not repo.claim(session, dying, clock.now(), clock.now() - messaging.STALE_CLAIM)

    assert messaging.sweep(db, settings=settings) == 0  # too early for both
    clock.advance(messaging.STALE_CLAIM + timedelta(seconds=1))
    assert messaging.sweep(db, settings=settings) == 2
    assert sorted(m["To"] for m in inbox.received) == ["kai@example.com", "lin@example.com"]
    assert stored(db, lost).status == "sent" and stored(db, dying).status == "sent"
    assert messaging.sweep(db, settings=settings) == 0


def test_without_a_server_messages_are_held_for_the_operator(db: Database) -> None:
    message_id = queue(db)
    assert messaging.deliver(db, message_id, Settings(smtp_url=None)) == "held"
    message = stored(db, message_id)
    assert message.status == "held" and "123456" in message.body


def test_a_rolled_back_transaction_sends_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError), db.unit_of_work() as session:
        messaging.queue_email(session, to="lin@example.com", subject="s", body="b", purpose="test")
        raise RuntimeError("the caller failed after queueing")
    with db.unit_of_work(write=False) as session:
        assert messaging.outbox(session) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", ("mail.example.com", 25, False, False, None, None)),
        (
            "smtp://user%40x:p%3Ass@mail.example.com:587?starttls=true",
            ("mail.example.com", 587, False, True, "user@x", "p:ss"),
        ),
        ("smtps://u:p@mail.example.com", ("mail.example.com", 465, True, False, "u", "p")),
    ],
)
def test_smtp_urls(url: str, expected: tuple[Any, ...]) -> None:
    t = SmtpTransport.from_url(url)
    assert (t.host, t.port, t.implicit_tls, t.starttls, t.username, t.password) == expected


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "mail.example.com:25"])
def test_a_bad_smtp_url_is_refused_at_start(url: str) -> None:
    with pytest.raises(ValidationError, match="PAPPUS_SMTP_URL"):
        Settings(smtp_url=url)


def test_the_outbox_command_shows_held_messages(db: Database) -> None:
    from typer.testing import CliRunner

    from pappus.cli import app as cli
    from pappus.jobs import use_database

    message_id = queue(db)
    messaging.deliver(db, message_id, Settings(smtp_url=None))
    queue(db, to="kai@example.com")
    use_database(db)
    runner = CliRunner()
    shown = runner.invoke(cli, ["outbox", "--to", "lin@example.com"])
    assert shown.exit_code == 0, shown.output
    assert "held" in shown.output and message_id in shown.output
    assert "| Your code is 123456." in shown.output
    assert "kai@example.com" not in shown.output
    queued = runner.invoke(cli, ["outbox", "--status", "queued"])
    assert "kai@example.com" in queued.output and "lin@example.com" not in queued.output
    none = runner.invoke(cli, ["outbox", "--to", "nobody@example.com"])
    assert none.exit_code == 0 and "no messages" in none.output
