"""Verified contact: a creator proves they read mail at their contact address by entering a
code sent there. Brands see only that the address is verified; the address itself stays
private until an order exists.

Codes are 6 digits, kept only as an HMAC, live 15 minutes and allow 5 wrong tries; a creator
may ask for a new one once a minute and 5 times an hour.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pappus.creators import repository as repo
from pappus.creators.models import ContactVerification, CreatorProfile
from pappus.errors import Conflict, InvalidInput, NotFound, PappusError, RateLimited
from pappus.kit.clock import now
from pappus.messaging import service as messaging

CODE_LIFETIME = timedelta(minutes=15)
MAX_ATTEMPTS = 5
RESEND_AFTER = timedelta(minutes=1)
MAX_PER_HOUR = 5


@dataclass(frozen=True)
class SentCode:
    verification: ContactVerification
    resend_after: datetime


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def _code_hash(session: Session, verification_id: str, code: str) -> str:
    from pappus.ledger.payments import secret

    key = secret(session, "contact_verification").encode()
    return hmac.new(key, f"{verification_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _profile(session: Session, creator_id: str) -> CreatorProfile:
    profile = repo.get_for_update(session, creator_id)
    if profile is None:
        raise NotFound("creator not found")
    return profile


def request_code(session: Session, creator_id: str) -> SentCode:
    """Send a new code to the creator's contact email (superseding any earlier one)."""
    profile = _profile(session, creator_id)  # locked: one request at a time per creator
    address = profile.contact_email
    if not address:
        raise InvalidInput(
            "set contact_email on your profile before verifying it",
            field="contact_email",
            code="contact_missing",
        )
    if profile.contact_email_verified_at is not None:
        raise Conflict("your contact email is already verified", code="contact_already_verified")
    at = now()
    recent = repo.verifications_since(session, creator_id, at - timedelta(hours=1))
    if recent and at - recent[0].created_at < RESEND_AFTER:
        wait = recent[0].created_at + RESEND_AFTER - at
        raise RateLimited(
            "a code was sent less than a minute ago; check your mail or wait",
            retry_after_seconds=int(wait.total_seconds()) + 1,
        )
    if len(recent) >= MAX_PER_HOUR:
        wait = recent[MAX_PER_HOUR - 1].created_at + timedelta(hours=1) - at
        raise RateLimited(
            f"at most {MAX_PER_HOUR} codes an hour",
            retry_after_seconds=int(wait.total_seconds()) + 1,
        )
    repo.supersede_pending_verifications(session, creator_id)
    code = f"{secrets.randbelow(10**6):06d}"
    verification = ContactVerification(
        creator_id=creator_id,
        channel="email",
        address=address,
        code_hash="",
        expires_at=at + CODE_LIFETIME,
        created_at=at,
    )
    repo.add_verification(session, verification)
    verification.code_hash = _code_hash(session, verification.id, code)
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    messaging.queue_email(
        session,
        to=address,
        subject="Your code to verify your contact email on Pappus",
        body=(
            f"Hello {profile.display_name},\n\n"
            f"Your code to verify this address on Pappus is {code}.\n"
            f"It works for {minutes} minutes. If you did not ask for it, ignore this message:\n"
            "nothing changes without the code.\n"
        ),
        purpose="contact_verification",
        sensitive=True,
    )
    session.flush()
    return SentCode(verification, at + RESEND_AFTER)


def confirm_code(session: Session, creator_id: str, code: str) -> PappusError | None:
    """Check the code against the latest one sent; on success the contact email is verified.

    A refusal is returned, not raised, so that the caller commits what it changed (a wrong
    try counted, a code used up or expired) and then answers with it: a rolled-back count
    would allow unlimited guessing."""
    code = code.strip()
    profile = _profile(session, creator_id)  # locked: tries of one creator run one at a time
    pending = repo.pending_verification(session, creator_id)
    at = now()
    failure: PappusError | None = None
    if pending is None:
        failure = Conflict("no code is waiting; ask for one first", code="no_verification_pending")
    elif pending.address != profile.contact_email:
        pending.status = "superseded"
        failure = Conflict(
            "the contact email changed since the code was sent; ask for a new one",
            code="no_verification_pending",
        )
    elif pending.expires_at <= at:
        pending.status = "expired"
        failure = InvalidInput(
            "the code has expired; ask for a new one", field="code", code="code_expired"
        )
    elif not hmac.compare_digest(pending.code_hash, _code_hash(session, pending.id, code)):
        pending.attempts += 1
        left = attempts_left(pending)
        if left <= 0:
            pending.status = "exhausted"
            failure = InvalidInput(
                "wrong code, and no tries are left; ask for a new one",
                field="code",
                code="code_exhausted",
                attempts_left=0,
            )
        else:
            failure = InvalidInput(
                f"wrong code; {left} tries left",
                field="code",
                code="code_invalid",
                attempts_left=left,
            )
    else:
        pending.status = "verified"
        pending.verified_at = at
        profile.contact_email_verified_at = at
    session.flush()
    return failure


def forget_verification(session: Session, profile: CreatorProfile) -> None:
    """The contact address changed: it is no longer verified, and codes sent to the old one
    are void."""
    profile.contact_email_verified_at = None
    repo.supersede_pending_verifications(session, profile.id)


def attempts_left(verification: ContactVerification) -> int:
    return max(0, MAX_ATTEMPTS - verification.attempts)
