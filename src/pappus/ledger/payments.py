"""Payment providers: the interface, and the sandbox provider that confirms deposits
asynchronously through an HMAC-signed webhook (Stripe-style `t=...,v1=...` signatures)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pappus.errors import PappusError
from pappus.ledger.payment_models import PlatformSecret

SIGNATURE_HEADER = "Pappus-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300
SANDBOX = "sandbox"
# Like a test card: deposits whose amount ends in ...13 minor units are declined.
SANDBOX_DECLINE_SUFFIX = 13


class InvalidSignature(PappusError):
    code = "invalid_signature"
    status = 400
    title = "Webhook signature invalid"


@dataclass(frozen=True)
class ProviderDeposit:
    provider_ref: str


class PaymentProvider(Protocol):
    name: str

    def create_deposit(self, deposit_id: str, amount: int, currency: str) -> ProviderDeposit:
        """Start collecting `amount`; the outcome arrives later through the webhook."""
        ...


class SandboxPaymentProvider:
    """Accepts every deposit except amounts ending in 13; confirms through the webhook job."""

    name = SANDBOX

    def create_deposit(self, deposit_id: str, amount: int, currency: str) -> ProviderDeposit:
        return ProviderDeposit(provider_ref=f"sbx_pi_{secrets.token_hex(10)}")

    @staticmethod
    def outcome(amount: int) -> tuple[str, str | None]:
        if amount % 100 == SANDBOX_DECLINE_SUFFIX:
            return "deposit.failed", "card_declined (sandbox: amounts ending in 13 fail)"
        return "deposit.succeeded", None


PROVIDERS: dict[str, PaymentProvider] = {SANDBOX: SandboxPaymentProvider()}


def secret(session: Session, name: str) -> str:
    """A platform secret, generated once and shared by all processes through the database."""
    found = session.get(PlatformSecret, name)
    if found is not None:
        return found.value
    created = PlatformSecret(name=name, value=secrets.token_urlsafe(32))
    try:
        with session.begin_nested():
            session.add(created)
            session.flush()
    except IntegrityError:
        found = session.get(PlatformSecret, name)
        assert found is not None
        return found.value
    return created.value


def sign(key: str, body: bytes, timestamp: int | None = None) -> str:
    stamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(key.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def verify(key: str, body: bytes, header: str | None, now_unix: int | None = None) -> None:
    """Raise InvalidSignature unless `header` signs `body` with `key` within the tolerance."""
    if not header:
        raise InvalidSignature(f"missing {SIGNATURE_HEADER} header")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    try:
        stamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise InvalidSignature("signature header has no valid timestamp") from None
    current = int(time.time()) if now_unix is None else now_unix
    if abs(current - stamp) > SIGNATURE_TOLERANCE_SECONDS:
        raise InvalidSignature("signature timestamp outside the tolerance (replay?)")
    expected = sign(key, body, stamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, given) for given in parts.get("v1", [])):
        raise InvalidSignature("signature does not match")


def sandbox_event(provider_ref: str, amount: int, currency: str) -> bytes:
    kind, reason = SandboxPaymentProvider.outcome(amount)
    event: dict[str, Any] = {
        "id": f"evt_{secrets.token_hex(10)}",
        "type": kind,
        "data": {
            "provider_ref": provider_ref,
            "amount": amount,
            "currency": currency,
            "failure_reason": reason,
        },
    }
    return json.dumps(event, separators=(",", ":")).encode()


ENCRYPTION_SECRET = "field_encryption_key"


def encryption_key(session: Session) -> str:
    """The key for field encryption at rest: PAPPUS_ENCRYPTION_KEY, or one generated once and
    kept in the database's platform secrets (embedded mode only; see pappus.kit.crypto)."""
    from pappus.config import get_settings

    return get_settings().encryption_key or secret(session, ENCRYPTION_SECRET)
