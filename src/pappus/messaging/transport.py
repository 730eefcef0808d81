"""How a message leaves Pappus: SMTP (PAPPUS_SMTP_URL), or nowhere when none is configured."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit


class PermanentFailure(Exception):
    """The server refused the message for good (e.g. an unknown recipient): do not retry."""


class TemporaryFailure(Exception):
    """The server could not be reached or asked to try again later."""


@dataclass(frozen=True)
class SmtpTransport:
    """`smtp://[user[:password]@]host[:port][?starttls=true]` or `smtps://...` (TLS from the
    first byte, port 465 by default)."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None
    timeout: float

    @classmethod
    def from_url(cls, url: str, timeout: float = 10.0) -> SmtpTransport:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("PAPPUS_SMTP_URL must look like smtp://user:password@host:587")
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["false"])[0].lower() in {"1", "true", "yes"}
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            implicit_tls=implicit,
            starttls=starttls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=timeout,
        )

    def send(self, message: EmailMessage) -> None:
        try:
            client: smtplib.SMTP
            if self.implicit_tls:
                client = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.starttls:
                    client.starttls(context=ssl.create_default_context())
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            raise PermanentFailure(str(exc)[:400]) from exc
        except smtplib.SMTPResponseException as exc:
            # 5xx is final, 4xx means "try again later" (RFC 5321, 4.2.1).
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}"[:400]) from exc
            raise TemporaryFailure(f"{exc.smtp_code} {exc.smtp_error!r}"[:400]) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}"[:400]) from exc
