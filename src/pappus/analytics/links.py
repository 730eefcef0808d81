"""Tracking links: one short code per order and destination, with UTM parameters added."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pappus.accounts.principal import Access, Principal
from pappus.analytics import repository as repo
from pappus.analytics.models import TrackingLink
from pappus.audit import service as audit
from pappus.errors import Conflict, Forbidden, InvalidInput, NotFound
from pappus.kit.clock import now
from pappus.orders import service as orders

CODE_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 8
CLICK_PARAMETER = "pappus_click"
CLOSED_ORDER_STATES = frozenset({"cancelled"})


@dataclass(frozen=True)
class LinkTarget:
    """What the redirect needs, cached per process."""

    link_id: str
    order_id: str
    campaign_id: str
    organization_id: str
    target_url: str
    active: bool

    @property
    def location_parts(self) -> tuple[str, str]:
        """The redirect's Location around the click id: (up to `pappus_click=`, fragment)."""
        parts = urlsplit(self.target_url)
        joiner = "&" if parts.query else ""
        before = urlunsplit(
            parts._replace(query=f"{parts.query}{joiner}{CLICK_PARAMETER}=", fragment="")
        )
        return before, f"#{parts.fragment}" if parts.fragment else ""


def require_brand_write(principal: Principal, organization_id: str) -> None:
    """Links and coupons are the brand's (or staff's); the order's creator only reads them."""
    if principal.is_staff:
        return
    if organization_id not in principal.roles:
        raise Forbidden("only the brand's members can do this", code="forbidden")
    principal.require_org(organization_id, Access.write, "orders:write", what="order")


def _check_destination(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidInput("destination must be an absolute http(s) URL", field="destination")
    if parts.username or parts.password:
        raise InvalidInput("destination must not carry credentials", field="destination")


def with_utm(
    destination: str, campaign_id: str, order_id: str, utm: dict[str, str] | None = None
) -> str:
    """The destination with utm_source/medium/campaign/content added. Parameters already in the
    destination win over ours (the brand set them on purpose); `utm` overrides both."""
    parts = urlsplit(destination)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {k for k, _ in query}
    ours = {
        "utm_source": "pappus",
        "utm_medium": "influencer",
        "utm_campaign": campaign_id,
        "utm_content": order_id,
    }
    ours.update(utm or {})
    query = [(k, (utm or {}).get(k, v)) for k, v in query]
    query += [(k, v) for k, v in ours.items() if k not in present]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def create_link(
    session: Session,
    principal: Principal,
    order_id: str,
    destination: str,
    label: str = "",
    utm: dict[str, str] | None = None,
) -> tuple[TrackingLink, bool]:
    """A link for the order and destination; the same destination again returns the first."""
    order = orders.get_order(session, principal, order_id)
    require_brand_write(principal, order.organization_id)
    if order.state in CLOSED_ORDER_STATES:
        raise Conflict(f"the order is '{order.state}'; it takes no new links", code="order_closed")
    _check_destination(destination)
    existing = repo.link_for_destination(session, order.id, destination)
    if existing is not None:
        return existing, False
    target = with_utm(destination, order.campaign_id, order.id, utm)
    if len(target) > 2400:
        raise InvalidInput("destination is too long once tracked", field="destination")
    for _attempt in range(5):
        link = TrackingLink(
            code=_new_code(),
            order_id=order.id,
            campaign_id=order.campaign_id,
            organization_id=order.organization_id,
            destination_url=destination,
            target_url=target,
            label=label,
            created_by=principal.actor_id,
            created_at=now(),
        )
        try:
            with session.begin_nested():
                repo.add(session, link)
        except IntegrityError:
            # A code collision (1 in 10^14) or the same destination added concurrently.
            existing = repo.link_for_destination(session, order.id, destination)
            if existing is not None:
                return existing, False
            continue
        audit.record(
            session,
            "tracking_link.created",
            "order",
            order.id,
            actor=principal,
            data={"link_id": link.id, "code": link.code, "destination": destination},
        )
        return link, True
    raise Conflict("could not allocate a link code; retry", code="link_code_exhausted")


def list_links(session: Session, principal: Principal, order_id: str) -> list[TrackingLink]:
    order = orders.get_order(session, principal, order_id)
    return list(repo.links_of_order(session, order.id))


def set_active(session: Session, principal: Principal, link_id: str, active: bool) -> TrackingLink:
    """Pause or resume a link; a paused link answers 410 and records nothing."""
    link = repo.link(session, link_id)
    if link is None:
        raise NotFound("link not found")
    try:
        order = orders.get_order(session, principal, link.order_id)
    except NotFound:
        # A stranger learns no more about a real link than about a made-up id.
        raise NotFound("link not found") from None
    require_brand_write(principal, order.organization_id)
    link.active = active
    session.flush()
    return link


def resolve(session: Session, code: str) -> LinkTarget | None:
    link = repo.link_by_code(session, code)
    if link is None:
        return None
    return LinkTarget(
        link_id=link.id,
        order_id=link.order_id,
        campaign_id=link.campaign_id,
        organization_id=link.organization_id,
        target_url=link.target_url,
        active=link.active,
    )
