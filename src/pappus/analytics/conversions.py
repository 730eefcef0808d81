"""Stores, coupons and the signed conversion webhook, with attribution.

Attribution rule (docs/metrics.md): a store order counts once (unique per store and store
order id) and goes to at most one Pappus order. A recognised coupon wins, the first in the
order the store listed them; otherwise the latest valid click the store names that happened
within the store's attribution window before the purchase. Bots never attribute.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pappus.accounts.principal import Access, Principal
from pappus.analytics import repository as repo
from pappus.analytics.links import require_brand_write
from pappus.analytics.models import Conversion, ConversionRefund, Coupon, Store
from pappus.analytics.schemas import ConversionEvent
from pappus.audit import service as audit
from pappus.errors import Conflict, Forbidden, InvalidInput, NotFound, PappusError
from pappus.kit.clock import now
from pappus.kit.crypto import decrypt, encrypt
from pappus.ledger.payments import encryption_key
from pappus.orders import service as orders

SIGNATURE_HEADER = "Pappus-Signature"
STORE_HEADER = "Pappus-Store"
COUPON_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud
# A click may be logged by our clock a little after the store's clock saw the purchase.
CLICK_CLOCK_SKEW = timedelta(minutes=5)


class SignatureInvalid(PappusError):
    status = 400
    code = "signature_invalid"
    title = "Webhook signature invalid"


class SignatureExpired(PappusError):
    status = 400
    code = "signature_expired"
    title = "Webhook signature outside the tolerance"


# -- stores -----------------------------------------------------------------------------------


def create_store(
    session: Session,
    principal: Principal,
    organization_id: str,
    name: str,
    currency: str,
    attribution_window_days: int,
) -> tuple[Store, str]:
    """A store and its signing secret, which is shown this once."""
    if principal.api_key_id is not None:
        raise Forbidden("API keys cannot register stores", code="user_only")
    principal.require_org(organization_id, Access.manage, what="organization")
    secret = "whsec_" + secrets.token_urlsafe(32)
    store = Store(
        organization_id=organization_id,
        name=name,
        currency=currency,
        attribution_window_days=attribution_window_days,
        secret_encrypted="",
        created_by=principal.actor_id,
        created_at=now(),
    )
    session.add(store)
    session.flush()
    store.secret_encrypted = encrypt(encryption_key(session), secret, store.id)
    session.flush()
    audit.record(
        session,
        "store.created",
        "organization",
        organization_id,
        actor=principal,
        data={"store_id": store.id, "name": name},
    )
    return store, secret


def list_stores(session: Session, principal: Principal, organization_id: str) -> list[Store]:
    principal.require_org(organization_id, Access.read, what="organization")
    return list(repo.stores_of(session, organization_id))


# -- coupons ----------------------------------------------------------------------------------


def normalise_code(code: str) -> str:
    return code.strip().upper()


def create_coupon(
    session: Session,
    principal: Principal,
    order_id: str,
    code: str | None,
    description: str,
) -> tuple[Coupon, bool]:
    """A coupon code for the order: the brand's own, or one made up; unique in the brand."""
    order = orders.get_order(session, principal, order_id)
    require_brand_write(principal, order.organization_id)
    if order.state == "cancelled":
        raise Conflict("the order is 'cancelled'; it takes no coupons", code="order_closed")
    wanted = normalise_code(code) if code else None
    for _attempt in range(5):
        candidate = wanted or "PAP" + "".join(secrets.choice(COUPON_ALPHABET) for _ in range(7))
        coupon = Coupon(
            organization_id=order.organization_id,
            order_id=order.id,
            campaign_id=order.campaign_id,
            code=candidate,
            description=description,
            created_by=principal.actor_id,
            created_at=now(),
        )
        try:
            with session.begin_nested():
                repo.add(session, coupon)
        except IntegrityError:
            taken = repo.coupons_by_code(session, order.organization_id, [candidate])
            if taken and taken[0].order_id == order.id and wanted is not None:
                return taken[0], False
            if wanted is not None:
                raise Conflict(
                    f"coupon code '{candidate}' already belongs to another order",
                    code="coupon_code_taken",
                ) from None
            continue
        return coupon, True
    raise Conflict("could not allocate a coupon code; retry", code="coupon_code_exhausted")


def list_coupons(session: Session, principal: Principal, order_id: str) -> list[Coupon]:
    order = orders.get_order(session, principal, order_id)
    return list(repo.coupons_of_order(session, order.id))


# -- the webhook ------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `Pappus-Signature` header value for a body: `t=<unix>,v1=<hex HMAC-SHA256>`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_signature(
    secret: str, header: str, body: bytes, at: datetime, tolerance_seconds: int
) -> None:
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    try:
        timestamp = int(parts["t"][0])
        candidates = parts["v1"]
    except (KeyError, ValueError, IndexError):
        raise SignatureInvalid(
            f"{SIGNATURE_HEADER} must look like 't=<unix seconds>,v1=<hex>'"
        ) from None
    if abs(at.timestamp() - timestamp) > tolerance_seconds:
        raise SignatureExpired(
            f"the signature's timestamp is more than {tolerance_seconds} s from the server's "
            "clock; replays and badly skewed clocks are refused"
        )
    expected = sign(secret, timestamp, body).rsplit("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureInvalid("the signature does not match the body and the store's secret")


@dataclass(frozen=True)
class WebhookOutcome:
    conversion: Conversion
    created: bool
    event: str


def receive(
    session: Session,
    store_id: str,
    signature: str,
    body: bytes,
    tolerance_seconds: int,
) -> WebhookOutcome:
    """Verify, parse and apply one webhook delivery; a replay returns what the first did."""
    at = now()
    store = repo.store(session, store_id) if store_id else None
    if store is None or not store.active:
        raise SignatureInvalid(f"{STORE_HEADER} names no active store")
    secret = decrypt(encryption_key(session), store.secret_encrypted, store.id)
    verify_signature(secret, signature, body, at, tolerance_seconds)
    try:
        event = ConversionEvent.model_validate_json(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "body"
        raise InvalidInput(f"{field}: {error['msg']}", field=f"body.{field}") from None
    if event.occurred_at > at + timedelta(seconds=tolerance_seconds):
        raise InvalidInput("occurred_at is in the future", field="body.occurred_at")
    digest = hashlib.sha256(body).hexdigest()
    if event.type == "order.paid":
        return _paid(session, store, event, digest, at)
    if event.type == "order.refunded":
        return _refunded(session, store, event, digest, at)
    return _cancelled(session, store, event, at)


def record_demo_sale(session: Session, store_id: str, payload: dict[str, Any]) -> WebhookOutcome:
    """Apply an event as if the store had sent it, signed (the demo's shop has no server)."""
    store = repo.store(session, store_id)
    assert store is not None
    secret = decrypt(encryption_key(session), store.secret_encrypted, store.id)
    body = canonical_json(payload)
    return receive(session, store.id, sign(secret, int(now().timestamp()), body), body, 300)


def _paid(
    session: Session, store: Store, event: ConversionEvent, digest: str, at: datetime
) -> WebhookOutcome:
    existing = repo.conversion_for(session, store.id, event.order_id)
    if existing is not None:
        return _replay(existing, digest, "order.paid")
    if event.currency != store.currency:
        raise InvalidInput(
            f"the store reports in {store.currency}, not {event.currency}", field="body.currency"
        )
    assert event.amount is not None
    conversion = Conversion(
        store_id=store.id,
        organization_id=store.organization_id,
        external_order_id=event.order_id,
        occurred_at=event.occurred_at,
        currency=store.currency,
        amount=event.amount,
        payload_sha256=digest,
        created_at=at,
        updated_at=at,
        **_attribute(session, store, event),
    )
    try:
        with session.begin_nested():
            repo.add(session, conversion)
    except IntegrityError:
        # The same delivery raced itself; the winner's row answers.
        existing = repo.conversion_for(session, store.id, event.order_id)
        assert existing is not None
        return _replay(existing, digest, "order.paid")
    return WebhookOutcome(conversion, True, "order.paid")


def _replay(conversion: Conversion, digest: str, event: str) -> WebhookOutcome:
    if conversion.payload_sha256 != digest:
        raise Conflict(
            "this store order was already reported with a different body; send refunds as "
            "order.refunded",
            code="conversion_exists",
        )
    return WebhookOutcome(conversion, False, event)


def _attribute(session: Session, store: Store, event: ConversionEvent) -> dict[str, Any]:
    codes = [normalise_code(c) for c in event.coupon_codes]
    known = {c.code: c for c in repo.coupons_by_code(session, store.organization_id, codes)}
    evidence: dict[str, Any] = {
        "coupon_codes": codes,
        "recognised_coupons": [c for c in codes if c in known and known[c].active],
        "click_ids": event.click_ids,
        "window_days": store.attribution_window_days,
    }
    for code in codes:
        coupon = known.get(code)
        if coupon is not None and coupon.active:
            evidence["rule"] = "coupon"
            return {
                "status": "attributed",
                "attribution": "coupon",
                "order_id": coupon.order_id,
                "campaign_id": coupon.campaign_id,
                "coupon_code": code,
                "click_id": None,
                "evidence": evidence,
            }
    earliest = event.occurred_at - timedelta(days=store.attribution_window_days)
    latest = event.occurred_at + CLICK_CLOCK_SKEW
    verdicts = []
    best = None
    for click in repo.clicks_by_ids(session, store.organization_id, event.click_ids):
        if click.is_bot:
            verdict = "bot"
        elif click.at < earliest:
            verdict = "outside_window"
        elif click.at > latest:
            verdict = "after_purchase"
        else:
            verdict = "eligible"
            if best is None or click.at > best.at:
                best = click
        verdicts.append({"id": click.id, "at": click.at.isoformat(), "verdict": verdict})
    evidence["clicks"] = verdicts
    evidence["unknown_click_ids"] = sorted(set(event.click_ids) - {v["id"] for v in verdicts})
    if best is None:
        evidence["rule"] = "none"
        return {"status": "unattributed", "evidence": evidence}
    evidence["rule"] = "last_click"
    return {
        "status": "attributed",
        "attribution": "click",
        "order_id": best.order_id,
        "campaign_id": best.campaign_id,
        "click_id": best.id,
        "evidence": evidence,
    }


def _existing(session: Session, store: Store, event: ConversionEvent) -> Conversion:
    conversion = repo.conversion_for(session, store.id, event.order_id, lock=True)
    if conversion is None:
        raise NotFound(
            f"no order.paid was received for store order '{event.order_id}'",
            code="conversion_not_found",
        )
    return conversion


def _refunded(
    session: Session, store: Store, event: ConversionEvent, digest: str, at: datetime
) -> WebhookOutcome:
    conversion = _existing(session, store, event)
    assert event.refund_id is not None and event.amount is not None
    earlier = repo.refund_for(session, conversion.id, event.refund_id)
    if earlier is not None:
        if earlier.payload_sha256 != digest:
            raise Conflict(
                "this refund id was already reported with a different body",
                code="refund_exists",
            )
        session.refresh(conversion)
        return WebhookOutcome(conversion, False, "order.refunded")
    if event.currency is not None and event.currency != conversion.currency:
        raise InvalidInput(
            f"the conversion is in {conversion.currency}, not {event.currency}",
            field="body.currency",
        )
    left = conversion.amount - conversion.refunded_amount
    if event.amount > left:
        raise InvalidInput(
            f"refund of {event.amount} exceeds the {left} not yet refunded",
            field="body.amount",
        )
    repo.add(
        session,
        ConversionRefund(
            conversion_id=conversion.id,
            external_refund_id=event.refund_id,
            amount=event.amount,
            occurred_at=event.occurred_at,
            payload_sha256=digest,
            created_at=at,
        ),
    )
    repo.bump_refunded(session, conversion.id, event.amount, at)
    session.refresh(conversion)
    if conversion.refunded_amount >= conversion.amount and conversion.status != "voided":
        conversion.status = "voided"
        conversion.voided_at = at
        session.flush()
    return WebhookOutcome(conversion, True, "order.refunded")


def _cancelled(
    session: Session, store: Store, event: ConversionEvent, at: datetime
) -> WebhookOutcome:
    conversion = _existing(session, store, event)
    if conversion.status == "voided":
        return WebhookOutcome(conversion, False, "order.cancelled")
    conversion.status = "voided"
    conversion.voided_at = at
    conversion.updated_at = at
    session.flush()
    return WebhookOutcome(conversion, True, "order.cancelled")


def list_conversions(
    session: Session,
    principal: Principal,
    organization_id: str,
    *,
    order_id: str | None,
    campaign_id: str | None,
    status: str | None,
    after_id: str | None,
    limit: int,
) -> list[Conversion]:
    principal.require_org(organization_id, Access.read, "orders:read", what="organization")
    return list(
        repo.conversions(
            session,
            organization_id,
            order_id=order_id,
            campaign_id=campaign_id,
            status=status,
            after_id=after_id,
            limit=limit,
        )
    )


def canonical_json(payload: dict[str, Any]) -> bytes:
    """How the sandbox store and the tests serialise a body before signing it."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
