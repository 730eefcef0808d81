"""Order rules: creation with a frozen contract, the workflow's actions, timers, metrics and
disputes. Every state change goes through `_apply`, which reads the transition table."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from pappus.accounts.principal import Access, Principal
from pappus.audit import service as audit
from pappus.compliance import service as compliance
from pappus.config import get_settings
from pappus.connectors.base import PlatformPost
from pappus.errors import Conflict, Forbidden, InvalidInput, NotFound
from pappus.kit.clock import now as clock_now
from pappus.kit.ids import new_id
from pappus.kit.money import apply_rate
from pappus.ledger import service as ledger
from pappus.orders import inflation, schemas
from pappus.orders import repository as repo
from pappus.orders.models import Dispute, Draft, MetricSnapshot, Order, OrderEvent, Publication
from pappus.orders.settlement import (
    KPI_METRICS,
    Terms,
    escrow_breakdown,
    evaluate_kpis,
    kpi_bonus,
    split_escrow,
)
from pappus.orders.workflow import (
    ACTION_ENDPOINTS,
    ACTIVE,
    CANCELLATION_STAGE_SHARE_BP,
    DEADLINE_DURATIONS,
    TERMINAL,
    TRANSITIONS,
    WORKFLOW_VERSION,
    Actor,
    OrderFacts,
    Payout,
    State,
    Transition,
    allowed_actions,
    deadline,
    find_transition,
    timer_transitions,
)

GENESIS_HASH = "0" * 64


class OrderNotInState(Conflict):
    code = "order_not_in_state"
    title = "Action not allowed in the order's current state"


class OrderChanged(Conflict):
    code = "order_changed"
    title = "The order changed while this request ran"


class AlreadyHasOrder(Conflict):
    code = "order_exists"
    title = "An order already exists"


class DraftNotInReview(Conflict):
    code = "draft_not_in_review"
    title = "Draft is not the one in review"


class DraftNotCompliant(Conflict):
    code = "draft_not_compliant"
    title = "The draft has blocking compliance findings"


# -- contract -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderTerms:
    """Everything the accepting side agreed to; frozen into the order's contract."""

    campaign_id: str
    campaign_name: str
    organization_id: str
    creator_id: str
    source_kind: str
    source_id: str
    currency: str
    price_amount: int
    bonus_cap_amount: int
    brief: dict[str, Any]
    deliverables: list[dict[str, Any]]
    kpis: list[dict[str, Any]]
    timeline: dict[str, Any]
    usage_rights: dict[str, Any]
    compensation_model: str


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()


def build_contract(terms: OrderTerms, accepted_at: datetime) -> dict[str, Any]:
    settings = get_settings()
    timeline = terms.timeline
    fees = Terms(
        price_amount=terms.price_amount,
        bonus_cap_amount=terms.bonus_cap_amount,
        brand_fee_bp=settings.brand_fee_bp,
        creator_commission_bp=settings.creator_commission_bp,
    )
    breakdown = escrow_breakdown(fees)
    return {
        "workflow_version": WORKFLOW_VERSION,
        "accepted_at": accepted_at.isoformat(),
        "campaign_id": terms.campaign_id,
        "campaign_name": terms.campaign_name,
        "organization_id": terms.organization_id,
        "creator_id": terms.creator_id,
        "source": {"kind": terms.source_kind, "id": terms.source_id},
        "brief": terms.brief,
        "deliverables": terms.deliverables,
        "compensation_model": terms.compensation_model,
        "kpis": terms.kpis,
        "money": {
            "currency": terms.currency,
            "price_amount": breakdown.price_amount,
            "bonus_cap_amount": breakdown.bonus_cap_amount,
            "brand_fee_bp": fees.brand_fee_bp,
            "brand_fee_amount": breakdown.brand_fee_amount,
            "escrow_amount": breakdown.escrow_amount,
            "creator_commission_bp": fees.creator_commission_bp,
            "creator_commission_amount": breakdown.creator_commission_amount,
            "creator_net_amount": breakdown.creator_net_amount,
            "rounding": "half up to the minor unit; fees charged only on what the creator earns",
            "bonus_formula": "bonus_cap_amount x KPIs met / KPIs set, rounded down",
        },
        "deadlines": {
            "draft_due_days": timeline.get("draft_due_days") or settings.draft_due_days,
            "review_days": timeline.get("review_days") or settings.review_days,
            "publish_due_days": timeline.get("publish_due_days") or settings.publish_due_days,
            "measurement_days": timeline.get("measurement_days") or settings.measurement_days,
        },
        "revision_limit": (
            timeline["revision_limit"]
            if timeline.get("revision_limit") is not None
            else settings.revision_limit
        ),
        "post_retention_days": timeline.get("post_retention_days", 30),
        "usage_rights": terms.usage_rights,
        "cancellation_stage_share_bp": {str(k): v for k, v in CANCELLATION_STAGE_SHARE_BP.items()},
        "disclosure_required": True,
    }


def quote_terms(price_amount: int, bonus_cap_amount: int) -> dict[str, int]:
    """The itemised fees both sides see before agreeing (same arithmetic as the contract)."""
    settings = get_settings()
    breakdown = escrow_breakdown(
        Terms(price_amount, bonus_cap_amount, settings.brand_fee_bp, settings.creator_commission_bp)
    )
    return {
        "price_amount": breakdown.price_amount,
        "bonus_cap_amount": breakdown.bonus_cap_amount,
        "brand_fee_bp": settings.brand_fee_bp,
        "brand_fee_amount": breakdown.brand_fee_amount,
        "escrow_amount": breakdown.escrow_amount,
        "creator_commission_bp": settings.creator_commission_bp,
        "creator_commission_amount": breakdown.creator_commission_amount,
        "creator_net_amount": breakdown.creator_net_amount,
    }


def _terms_of(order: Order) -> Terms:
    money = order.contract["money"]
    return Terms(
        price_amount=money["price_amount"],
        bonus_cap_amount=money["bonus_cap_amount"],
        brand_fee_bp=money["brand_fee_bp"],
        creator_commission_bp=money["creator_commission_bp"],
    )


def create_order(
    session: Session,
    terms: OrderTerms,
    *,
    actor: Actor,
    actor_id: str | None,
    before_hold: Callable[[Order], None] | None = None,
) -> Order:
    """Create the order with its contract and place the escrow hold, in the caller's
    transaction: if the hold fails, no order exists. `before_hold` gets the new order before
    the hold is placed, for the caller's own changes (the accepted application), so that they
    are written before the hold and not while it holds the brand's wallet row locked. Audit
    entries are recorded then too, and inserted at commit as always."""
    at = clock_now()
    contract = build_contract(terms, at)
    money = contract["money"]
    order = repo.insert_order(
        session,
        {
            "campaign_id": terms.campaign_id,
            "organization_id": terms.organization_id,
            "creator_id": terms.creator_id,
            "source_kind": terms.source_kind,
            "source_id": terms.source_id,
            "state": State.awaiting_draft,
            "workflow_version": WORKFLOW_VERSION,
            "contract": contract,
            "contract_sha256": hashlib.sha256(_canonical(contract)).hexdigest(),
            "currency": terms.currency,
            "price_amount": terms.price_amount,
            "escrow_amount": money["escrow_amount"],
            "revision_limit": contract["revision_limit"],
            "draft_due_at": deadline(at, contract["deadlines"]["draft_due_days"]),
            "created_at": at,
            "updated_at": at,
        },
    )
    if order is None:
        raise AlreadyHasOrder(
            "this creator already has an order for this campaign", code="order_exists"
        )
    _record_event(
        session,
        order,
        "create_order",
        None,
        State.awaiting_draft,
        actor,
        actor_id,
        {"contract_sha256": order.contract_sha256, "escrow_amount": order.escrow_amount},
        at,
        first=True,
    )
    if before_hold is not None:
        before_hold(order)
    # Last, so the brand wallet's row lock is held for as little of the transaction as can be:
    # every accept of one brand queues on it. The caller's changes are written first; only
    # the audit entries, one INSERT at commit, come after (the hold records one too).
    session.flush()
    ledger.place_escrow_hold(
        session,
        ledger.EscrowHold(
            order_id=order.id,
            organization_id=order.organization_id,
            creator_id=order.creator_id,
            currency=order.currency,
            amount=order.escrow_amount,
        ),
    )
    return order


# -- who is acting --------------------------------------------------------------------------


def _roles(principal: Principal, order: Order) -> set[Actor]:
    roles: set[Actor] = set()
    if principal.creator_id is not None and principal.creator_id == order.creator_id:
        roles.add(Actor.creator)
    if order.organization_id in principal.roles:
        roles.add(Actor.brand)
    if principal.is_staff:
        roles.add(Actor.staff)
    return roles


def _acting_roles(principal: Principal, order: Order) -> set[Actor]:
    """Roles the caller may act in: brand viewers and keys without orders:write only read."""
    roles = _roles(principal, order)
    if Actor.brand in roles and not principal.can(
        order.organization_id, Access.write, "orders:write"
    ):
        roles.discard(Actor.brand)
    return roles


def get_order(session: Session, principal: Principal, order_id: str) -> Order:
    """The order if the caller takes part in it (or is staff); otherwise not found."""
    order = repo.get(session, order_id)
    roles = _roles(principal, order) if order is not None else set()
    if order is None or not roles:
        raise NotFound("order not found")
    if roles == {Actor.brand} and not principal.has_scope("orders:read"):
        raise Forbidden("this API key lacks the 'orders:read' scope", code="missing_scope")
    return order


def _facts(
    order: Order,
    at: datetime,
    resolution: str | None = None,
    metrics_inflated: bool = False,
    draft_blocked: bool = False,
) -> OrderFacts:
    return OrderFacts(
        state=State(order.state),
        now=at,
        revisions_used=order.revisions_used,
        revision_limit=order.revision_limit,
        draft_due_at=order.draft_due_at,
        review_due_at=order.review_due_at,
        publish_due_at=order.publish_due_at,
        measurement_ends_at=order.measurement_ends_at,
        resolution=resolution,
        metrics_inflated=metrics_inflated,
        draft_blocked=draft_blocked,
        compliance_fix_due_at=order.compliance_fix_due_at,
    )


def allowed_for(
    session: Session, principal: Principal, order: Order, at: datetime
) -> list[schemas.AllowedAction]:
    dispute_id = None
    result = []
    blocked = False
    if order.state == State.changes_requested:
        latest = repo.latest_draft(session, order.id)
        blocked = latest is not None and latest.status == "blocked"
    facts = _facts(order, at, draft_blocked=blocked)
    for transition in allowed_actions(_acting_roles(principal, order), facts):
        method, path = ACTION_ENDPOINTS[transition.action]
        path = path.replace("{id}", order.id)
        if "{draft_id}" in path:
            latest = repo.latest_draft(session, order.id)
            if latest is not None:
                path = path.replace("{draft_id}", latest.id)
        if "{dispute_id}" in path:
            dispute_id = dispute_id or getattr(repo.open_dispute_for(session, order.id), "id", None)
            if dispute_id is None:
                continue
            path = path.replace("{dispute_id}", dispute_id)
        result.append(
            schemas.AllowedAction(
                action=transition.action,
                method=method,
                path=path,
                description=transition.description,
                to_state=transition.target,
            )
        )
    return result


def order_view(session: Session, principal: Principal, order: Order) -> schemas.Order:
    at = clock_now()
    dispute = repo.open_dispute_for(session, order.id) if order.state == State.disputed else None
    return schemas.Order(
        id=order.id,
        campaign_id=order.campaign_id,
        organization_id=order.organization_id,
        creator_id=order.creator_id,
        source_kind=order.source_kind,
        source_id=order.source_id,
        state=order.state,
        workflow_version=order.workflow_version,
        version=order.version,
        currency=order.currency,
        price_amount=order.price_amount,
        escrow_amount=order.escrow_amount,
        revision_limit=order.revision_limit,
        revisions_used=order.revisions_used,
        deadlines=_deadlines(order),
        contract=order.contract,
        contract_sha256=order.contract_sha256,
        allowed_actions=allowed_for(session, principal, order, at),
        your_role=sorted(_roles(principal, order)),
        open_dispute_id=dispute.id if dispute else None,
        compliance_hold=order.compliance_hold,
        kpi_result=order.kpi_result,
        settlement=order.settlement,
        created_at=order.created_at,
        updated_at=order.updated_at,
        completed_at=order.completed_at,
        cancelled_at=order.cancelled_at,
    )


def _deadlines(order: Order) -> schemas.Deadlines:
    return schemas.Deadlines(
        draft_due_at=order.draft_due_at,
        review_due_at=order.review_due_at,
        publish_due_at=order.publish_due_at,
        measurement_ends_at=order.measurement_ends_at,
        compliance_fix_due_at=order.compliance_fix_due_at,
    )


def summary(order: Order) -> schemas.OrderSummary:
    return schemas.OrderSummary(
        id=order.id,
        campaign_id=order.campaign_id,
        campaign_name=order.contract.get("campaign_name", ""),
        organization_id=order.organization_id,
        creator_id=order.creator_id,
        state=order.state,
        currency=order.currency,
        price_amount=order.price_amount,
        escrow_amount=order.escrow_amount,
        deadlines=_deadlines(order),
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


def list_orders(
    session: Session,
    principal: Principal,
    *,
    state: str | None,
    campaign_id: str | None,
    organization_id: str | None,
    after_id: str | None,
    limit: int,
) -> list[Order]:
    if principal.is_staff:
        scope = repo.OrderScope(all=True)
    else:
        if principal.scopes is not None and not principal.has_scope("orders:read"):
            raise Forbidden("this API key lacks the 'orders:read' scope", code="missing_scope")
        scope = repo.OrderScope(
            organization_ids=tuple(principal.roles), creator_id=principal.creator_id
        )
    return list(
        repo.list_orders(
            session,
            scope,
            state=state,
            campaign_id=campaign_id,
            organization_id=organization_id,
            after_id=after_id,
            limit=limit,
        )
    )


# -- the one place state changes ------------------------------------------------------------


def _pick_actor(principal: Principal, order: Order, action: str) -> Actor:
    """The role in which the caller takes `action`; Forbidden if no role of theirs ever may."""
    acting = _acting_roles(principal, order)
    for transition in TRANSITIONS:
        if transition.action == action and transition.actor in acting:
            return transition.actor
    if Actor.brand in _roles(principal, order) and any(
        t.action == action and t.actor == Actor.brand for t in TRANSITIONS
    ):
        principal.require_org(order.organization_id, Access.write, "orders:write", what="order")
    who = sorted({t.actor.value for t in TRANSITIONS if t.action == action})
    raise Forbidden(f"only the {' or '.join(who)} may {action.replace('_', ' ')}")


def _apply(
    session: Session,
    order: Order,
    action: str,
    actor: Actor,
    actor_id: str | None,
    at: datetime,
    data: dict[str, Any] | None = None,
    *,
    resolution: str | None = None,
    price_share_bp: int | None = None,
    metrics_inflated: bool = False,
    draft_blocked: bool = False,
) -> Transition:
    facts = _facts(order, at, resolution, metrics_inflated, draft_blocked)
    transition = find_transition(action, actor, facts)
    if transition is None:
        allowed = [t.action for t in allowed_actions({actor}, _facts(order, at))]
        raise OrderNotInState(
            f"cannot {action.replace('_', ' ')} an order in state '{order.state}'",
            state=order.state,
            allowed_actions=allowed,
        )
    from_state = order.state
    order.state = transition.target
    order.updated_at = at
    for column in transition.arms:
        days = order.contract["deadlines"][DEADLINE_DURATIONS[column]]
        setattr(order, column, deadline(at, days))
    if transition.target == State.completed:
        order.completed_at = at
    elif transition.target == State.cancelled:
        order.cancelled_at = at
    if transition.payout is not None:
        _settle(session, order, transition.payout, from_state, resolution, price_share_bp)
    try:
        session.flush()
    except StaleDataError:
        raise OrderChanged("the order changed while this request ran; reload and retry") from None
    event_data = dict(data or {})
    if order.settlement is not None and transition.payout is not None:
        event_data["settlement"] = order.settlement
    _record_event(
        session, order, action, from_state, transition.target, actor, actor_id, event_data, at
    )
    if transition.payout is not None:
        ledger.settle_escrow(
            session,
            ledger.EscrowSettlement(
                order_id=order.id,
                to_creator=order.settlement["to_creator"],  # type: ignore[index]
                to_platform=order.settlement["to_platform"],  # type: ignore[index]
                to_brand=order.settlement["to_brand"],  # type: ignore[index]
                reason=f"{action}:{transition.payout}",
            ),
        )
    return transition


def _settle(
    session: Session,
    order: Order,
    payout: Payout,
    from_state: str,
    resolution: str | None,
    price_share_bp: int | None,
) -> None:
    terms = _terms_of(order)
    bonus = 0
    share = 0
    if payout == Payout.full_refund:
        share = 0
    elif payout == Payout.by_stage:
        share = int(order.contract["cancellation_stage_share_bp"].get(from_state, 0))
    elif payout == Payout.release_with_kpis or (
        payout == Payout.by_resolution and resolution == "release"
    ):
        share = 10_000
        bonus = _evaluate_kpis(session, order)
    elif payout == Payout.by_resolution and resolution == "split":
        share = int(price_share_bp or 0)
    split = split_escrow(terms, price_share_bp=share, bonus_amount=bonus, reason=str(payout))
    order.settlement = split.as_dict()


def _evaluate_kpis(session: Session, order: Order) -> int:
    # The dictionary's inputs (analytics imports this module, hence the late import).
    from pappus.analytics.dictionary import DICTIONARY_VERSION
    from pappus.analytics.measure import kpi_snapshot

    kpis = order.contract.get("kpis") or []
    snapshot = repo.latest_snapshot(session, order.id, not_after=order.measurement_ends_at)
    values = kpi_snapshot(session, order)
    result = evaluate_kpis(kpis, values)
    result["dictionary_version"] = DICTIONARY_VERSION
    if snapshot is not None:
        result["snapshot_id"] = snapshot.id
        result["snapshot_taken_at"] = snapshot.taken_at.isoformat()
    bonus = kpi_bonus(order.contract["money"]["bonus_cap_amount"], result["met"], result["total"])
    result["bonus_amount"] = bonus
    order.kpi_result = result
    return bonus


# -- what analytics reads -------------------------------------------------------------------


def orders_of(
    session: Session,
    *,
    campaign_id: str | None = None,
    organization_id: str | None = None,
    creator_id: str | None = None,
) -> list[Order]:
    """Every order of one campaign, organization or creator (callers have authorized)."""
    if campaign_id is not None:
        return list(repo.of_campaign(session, campaign_id))
    if organization_id is not None:
        return list(repo.of_organization(session, organization_id))
    assert creator_id is not None
    return list(repo.of_creator(session, creator_id))


def order_by_id(session: Session, order_id: str) -> Order:
    """An order for a background job (no caller to authorize)."""
    order = repo.get(session, order_id)
    if order is None:
        raise NotFound("order not found")
    return order


def watched_order_ids(session: Session, at: datetime, limit: int) -> list[str]:
    return list(repo.watched_publication_order_ids(session, at, limit))


def recent_orders_in_states(session: Session, states: tuple[str, ...], limit: int) -> list[Order]:
    return list(repo.recent_in_states(session, states, limit))


def publications_of(session: Session, order_ids: list[str]) -> dict[str, Publication]:
    return {p.order_id: p for p in repo.publications_of(session, order_ids)}


def measured_snapshot(session: Session, order: Order) -> tuple[dict[str, int], datetime] | None:
    """The snapshot that counts: the latest taken by the end of the measurement window."""
    snapshot = repo.latest_snapshot(session, order.id, not_after=order.measurement_ends_at)
    return (_snapshot_values(snapshot), snapshot.taken_at) if snapshot else None


def _snapshot_values(snapshot: MetricSnapshot) -> dict[str, int]:
    return {metric: getattr(snapshot, metric) for metric in KPI_METRICS}


def _record_event(
    session: Session,
    order: Order,
    action: str,
    from_state: str | None,
    to_state: str,
    actor: Actor,
    actor_id: str | None,
    data: dict[str, Any],
    at: datetime,
    *,
    first: bool = False,
) -> None:
    """Append the next event of the order's hash chain, and its audit entry. `first` says the
    order was created in this transaction, so there is no previous event to read."""
    previous = None if first else repo.last_link(session, order.id)
    sequence, prev_hash = (previous[0] + 1, previous[1]) if previous else (1, GENESIS_HASH)
    body = {
        "order_id": order.id,
        "sequence": sequence,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "actor_kind": str(actor),
        "actor_id": actor_id,
        "data": data,
        "created_at": at.isoformat(),
    }
    event_hash = hashlib.sha256(prev_hash.encode() + _canonical(body)).hexdigest()
    inserted = repo.insert_event(
        session,
        {
            "order_id": order.id,
            "sequence": sequence,
            "action": action,
            "from_state": from_state,
            "to_state": to_state,
            "actor_kind": str(actor),
            "actor_id": actor_id,
            "data": json.loads(_canonical(data)),
            "prev_hash": prev_hash,
            "hash": event_hash,
            "created_at": at,
        },
    )
    if not inserted:
        raise OrderChanged("the order changed while this request ran; reload and retry")
    audit.record(
        session,
        f"order.{action}",
        "order",
        order.id,
        actor_kind=str(actor),
        actor_id=actor_id,
        data={"from_state": from_state, "to_state": to_state, "event_hash": event_hash, **data},
        at=at,
    )


def verify_event_chain(session: Session, order_id: str) -> bool:
    """Recompute the hash chain; False if any event was altered, removed or reordered."""
    prev_hash = GENESIS_HASH
    for index, event in enumerate(repo.all_events(session, order_id), start=1):
        body = {
            "order_id": event.order_id,
            "sequence": event.sequence,
            "action": event.action,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "actor_kind": event.actor_kind,
            "actor_id": event.actor_id,
            "data": event.data,
            "created_at": event.created_at.isoformat(),
        }
        expected = hashlib.sha256(prev_hash.encode() + _canonical(body)).hexdigest()
        if event.sequence != index or event.prev_hash != prev_hash or event.hash != expected:
            return False
        prev_hash = event.hash
    return True


# -- actions --------------------------------------------------------------------------------


def submit_draft(
    session: Session, principal: Principal, order_id: str, body: schemas.DraftCreate
) -> Draft:
    order = get_order(session, principal, order_id)
    actor = _pick_actor(principal, order, "submit_draft")
    at = clock_now()
    latest = repo.latest_draft(session, order.id)
    round_number = (latest.round if latest else 0) + 1
    if latest is not None and latest.status == "in_review":
        latest.status = "superseded"
    _apply(session, order, "submit_draft", actor, principal.actor_id, at, {"round": round_number})
    draft = Draft(
        order_id=order.id,
        round=round_number,
        title=body.title,
        body=body.body,
        hashtags=body.hashtags,
        media_urls=[str(u) for u in body.media_urls],
        status="in_review",
        submitted_at=at,
        review_due_at=order.review_due_at,
        compliance=_check_draft(session, order, body),
    )
    repo.add(session, draft)
    if draft.compliance["blocking"]:
        # Back to the creator at once: the brand never reviews (nor is deemed to approve) a
        # draft that breaks a rule, and the creator does not lose a revision for it.
        draft.status = "blocked"
        draft.review_due_at = None
        _apply(
            session,
            order,
            "return_for_compliance",
            Actor.system,
            None,
            at,
            {"draft_id": draft.id, "blocking": draft.compliance["blocking"]},
            draft_blocked=True,
        )
    return draft


def _check_draft(session: Session, order: Order, body: schemas.DraftCreate) -> dict[str, Any]:
    contract = order.contract
    brief = contract.get("brief") or {}
    platforms = [d.get("platform") for d in contract.get("deliverables") or []]
    platform = next((p for p in platforms if p), None) or next(
        iter(brief.get("platforms") or []), None
    )
    categories = brief.get("categories") or []
    return compliance.check_draft(
        session,
        title=body.title,
        body=body.body,
        hashtags=body.hashtags,
        platform=platform,
        category=categories[0] if categories else None,
        brand=(brief.get("product") or {}).get("name") or None,
    )


def _require_compliant(draft: Draft) -> None:
    record = draft.compliance or {}
    if record.get("blocking") and draft.compliance_override is None:
        blocking = [f for f in record.get("findings", []) if f.get("severity") == "block"]
        raise DraftNotCompliant(
            f"the draft has {record['blocking']} blocking compliance finding(s): "
            + "; ".join(
                f"{f['rule_id']} at {f['field']}[{f['start']}:{f['end']}]" for f in blocking
            )
            + ". Ask for changes, or staff may override with a reason",
            findings=blocking,
        )


def override_draft_compliance(
    session: Session, principal: Principal, order_id: str, draft_id: str, reason: str
) -> Draft:
    """Staff let a blocked draft go to the brand's review, with a recorded reason."""
    principal.require_staff()
    order = get_order(session, principal, order_id)
    draft = repo.get_draft(session, draft_id)
    if draft is None or draft.order_id != order.id:
        raise NotFound("draft not found")
    if draft.status != "blocked":
        raise Conflict(
            f"draft {draft_id} is '{draft.status}': only a draft blocked by the compliance "
            "check can be overridden",
            code="draft_not_blocked",
        )
    latest = repo.latest_draft(session, order.id)
    if latest is None or latest.id != draft.id:
        raise Conflict("a newer draft has been submitted since", code="draft_superseded")
    at = clock_now()
    data = {"draft_id": draft.id, "reason": reason, "blocking": draft.compliance.get("blocking")}
    _apply(
        session,
        order,
        "override_compliance",
        Actor.staff,
        principal.actor_id,
        at,
        data,
        draft_blocked=True,
    )
    draft.compliance_override = {"by": principal.actor_id, "reason": reason, "at": at.isoformat()}
    draft.status = "in_review"
    draft.review_due_at = order.review_due_at
    session.flush()
    return draft


def _draft_in_review(session: Session, order: Order, draft_id: str) -> Draft:
    draft = repo.get_draft(session, draft_id)
    if draft is None or draft.order_id != order.id:
        raise NotFound("draft not found")
    if draft.status != "in_review":
        raise DraftNotInReview(f"draft {draft_id} is '{draft.status}', not in review")
    return draft


def approve_draft(
    session: Session, principal: Principal, order_id: str, draft_id: str, note: str | None
) -> Draft:
    order = get_order(session, principal, order_id)
    actor = _pick_actor(principal, order, "approve_draft")
    draft = _draft_in_review(session, order, draft_id)
    _require_compliant(draft)
    at = clock_now()
    _apply(
        session,
        order,
        "approve_draft",
        actor,
        principal.actor_id,
        at,
        {"draft_id": draft.id, "note": note},
    )
    draft.status = "approved"
    draft.feedback = note
    draft.reviewed_at = at
    draft.reviewed_by = principal.actor_id
    session.flush()
    return draft


def request_changes(
    session: Session, principal: Principal, order_id: str, draft_id: str, feedback: str
) -> tuple[Draft, Order]:
    order = get_order(session, principal, order_id)
    actor = _pick_actor(principal, order, "request_changes")
    draft = _draft_in_review(session, order, draft_id)
    at = clock_now()
    transition = _apply(
        session,
        order,
        "request_changes",
        actor,
        principal.actor_id,
        at,
        {"draft_id": draft.id, "feedback": feedback, "revision": order.revisions_used + 1},
    )
    draft.status = "changes_requested"
    draft.feedback = feedback
    draft.reviewed_at = at
    draft.reviewed_by = principal.actor_id
    if transition.target == State.changes_requested:
        order.revisions_used += 1
    else:
        _open_dispute_row(
            session,
            order,
            Actor.brand,
            principal.actor_id,
            f"revision limit of {order.revision_limit} reached; brand asked again: {feedback}",
            State.draft_review,
        )
    session.flush()
    return draft, order


@dataclass(frozen=True)
class VerifiedPost:
    """A post the platform's connector returned and orders/publishing.py checked."""

    social_account_id: str
    post: PlatformPost
    checks: list[dict[str, Any]]
    draft_round: int | None


def _brief_platforms(order: Order) -> list[str]:
    return list(order.contract.get("brief", {}).get("platforms") or ["xiaohongshu"])


def check_can_publish(
    session: Session, principal: Principal, order_id: str, platform: str | None
) -> tuple[Order, str]:
    """Raise unless the caller may publish this order now; the platform the post is on."""
    order = get_order(session, principal, order_id)
    actor = _pick_actor(principal, order, "publish")
    facts = _facts(order, clock_now())
    if find_transition("publish", actor, facts) is None:
        raise OrderNotInState(
            f"cannot publish an order in state '{order.state}'",
            state=order.state,
            allowed_actions=[t.action for t in allowed_actions({actor}, facts)],
        )
    platforms = _brief_platforms(order)
    chosen = platform or platforms[0]
    if chosen not in platforms:
        raise InvalidInput(
            f"the brief names the platforms {', '.join(platforms)}; not {chosen!r}",
            field="platform",
        )
    return order, chosen


def publish(
    session: Session,
    principal: Principal,
    order_id: str,
    body: schemas.PublicationCreate,
    platform: str,
    verified: VerifiedPost | None = None,
) -> Publication:
    """Record the publication (after orders/publishing.py verified the post, if it could)."""
    order, platform = check_can_publish(session, principal, order_id, platform)
    actor = _pick_actor(principal, order, "publish")
    at = clock_now()
    if verified is not None:
        published_at = verified.post.published_at  # the platform's word, not the creator's
    else:
        published_at = body.published_at or at
        if published_at > at + timedelta(minutes=5):
            raise InvalidInput("published_at is in the future", field="published_at")
        if published_at < order.created_at:
            raise InvalidInput("published_at is before the order existed", field="published_at")
    event: dict[str, Any] = {"post_url": str(body.post_url), "platform": platform}
    if verified is not None:
        event |= {"verified": True, "external_post_id": verified.post.id}
    _apply(session, order, "publish", actor, principal.actor_id, at, event)
    publication = Publication(
        order_id=order.id,
        post_url=str(body.post_url),
        platform=platform,
        published_at=published_at,
        submitted_at=at,
    )
    if verified is not None:
        publication.verification_status = "verified"
        publication.verification = {
            "checks": verified.checks,
            "draft_round": verified.draft_round,
            "verified_at": at.isoformat(),
        }
        publication.social_account_id = verified.social_account_id
        publication.external_post_id = verified.post.id
        publication.post_status = "live"
        publication.last_checked_at = at
        retention = int(order.contract.get("post_retention_days") or 0)
        publication.watch_until = published_at + timedelta(days=retention)
    repo.add(session, publication)
    if verified is not None and verified.post.metrics.at >= published_at:
        metrics = verified.post.metrics
        repo.add(session, MetricSnapshot.from_connector(order.id, metrics, metrics.at, at))
    return publication


def get_publication(session: Session, principal: Principal, order_id: str) -> Publication:
    order = get_order(session, principal, order_id)
    publication = repo.publication(session, order.id)
    if publication is None:
        raise NotFound("this order has no publication yet")
    return publication


def authorize_action(session: Session, principal: Principal, order_id: str, action: str) -> Order:
    """Raise unless the caller may ever take `action` on this order (state aside); the order."""
    order = get_order(session, principal, order_id)
    _pick_actor(principal, order, action)
    return order


def cancel(session: Session, principal: Principal, order_id: str, reason: str) -> Order:
    order = get_order(session, principal, order_id)
    actor = _pick_actor(principal, order, "cancel")
    _apply(session, order, "cancel", actor, principal.actor_id, clock_now(), {"reason": reason})
    return order


def _open_dispute_row(
    session: Session,
    order: Order,
    actor: Actor,
    actor_id: str | None,
    reason: str,
    state_before: str,
) -> Dispute:
    order.state_before_dispute = state_before
    dispute = Dispute(
        order_id=order.id,
        opened_by_kind=str(actor),
        opened_by_id=actor_id,
        reason=reason,
        state_before=state_before,
        status="open",
        created_at=clock_now(),
    )
    repo.add(session, dispute)
    return dispute


def open_dispute(session: Session, principal: Principal, order_id: str, reason: str) -> Dispute:
    order = get_order(session, principal, order_id)
    actor = _pick_actor(principal, order, "open_dispute")
    state_before = order.state
    _apply(
        session, order, "open_dispute", actor, principal.actor_id, clock_now(), {"reason": reason}
    )
    return _open_dispute_row(session, order, actor, principal.actor_id, reason, state_before)


def _dispute_visible(session: Session, principal: Principal, dispute_id: str) -> Dispute:
    dispute = repo.get_dispute(session, dispute_id)
    if dispute is None:
        raise NotFound("dispute not found")
    try:
        get_order(session, principal, dispute.order_id)
    except NotFound:
        raise NotFound("dispute not found") from None  # the same answer as a wrong id
    return dispute


def get_dispute(session: Session, principal: Principal, dispute_id: str) -> Dispute:
    return _dispute_visible(session, principal, dispute_id)


def list_disputes(
    session: Session, principal: Principal, status: str | None, after_id: str | None, limit: int
) -> list[Dispute]:
    principal.require_staff()
    return list(
        repo.disputes(session, status=status, order_ids=None, after_id=after_id, limit=limit)
    )


def resolve_dispute(
    session: Session, principal: Principal, dispute_id: str, body: schemas.DisputeResolve
) -> tuple[Dispute, Order]:
    principal.require_staff()
    dispute = _dispute_visible(session, principal, dispute_id)
    order = get_order(session, principal, dispute.order_id)
    if dispute.status != "open":
        raise Conflict("this dispute is already resolved", code="dispute_resolved")
    at = clock_now()
    _apply(
        session,
        order,
        "resolve_dispute",
        Actor.staff,
        principal.actor_id,
        at,
        {
            "dispute_id": dispute.id,
            "resolution": body.resolution,
            "creator_share_bp": body.creator_share_bp,
            "note": body.note,
        },
        resolution=body.resolution,
        price_share_bp=body.creator_share_bp,
    )
    dispute.status = "resolved"
    dispute.resolution = body.resolution
    dispute.creator_share_bp = body.creator_share_bp
    dispute.resolution_note = body.note
    dispute.resolved_by = principal.actor_id
    dispute.resolved_at = at
    session.flush()
    return dispute, order


# -- drafts, metrics and events -------------------------------------------------------------


def latest_draft(session: Session, order_id: str) -> Draft | None:
    return repo.latest_draft(session, order_id)


def list_drafts(
    session: Session, principal: Principal, order_id: str, after_id: str | None, limit: int
) -> list[Draft]:
    order = get_order(session, principal, order_id)
    return list(repo.drafts(session, order.id, after_id=after_id, limit=limit))


def list_events(
    session: Session, principal: Principal, order_id: str, after_id: str | None, limit: int
) -> list[OrderEvent]:
    order = get_order(session, principal, order_id)
    return list(repo.events(session, order.id, after_id=after_id, limit=limit))


METRIC_STATES = frozenset({State.published, State.disputed, State.completed})


def record_metrics(
    session: Session, principal: Principal, order_id: str, body: schemas.MetricSnapshotCreate
) -> tuple[MetricSnapshot, bool]:
    """Store a snapshot; replaying the same snapshot returns the stored one (created=False)."""
    order = repo.get(session, order_id)
    if order is None:
        raise NotFound("order not found")
    if principal.is_staff:
        source = "staff"
    elif principal.api_key_id is not None and order.organization_id in principal.roles:
        if not principal.has_scope("metrics:write"):
            raise Forbidden("this API key lacks the 'metrics:write' scope", code="missing_scope")
        source = "api_key"
    elif _roles(principal, order):
        raise Forbidden(
            "metrics come from staff or an API key with the 'metrics:write' scope",
            code="metrics_source_not_allowed",
        )
    else:
        raise NotFound("order not found")
    if order.state not in METRIC_STATES:
        raise OrderNotInState(
            f"metrics are recorded only after publication; the order is '{order.state}'",
            state=order.state,
        )
    at = clock_now()
    if body.taken_at > at + timedelta(minutes=5):
        raise InvalidInput("taken_at is in the future", field="taken_at")
    publication = repo.publication(session, order.id)
    if publication is None:
        # Disputed before publication: there is no post to measure.
        raise OrderNotInState(
            "metrics need a published post; this order has none", state=order.state
        )
    if body.taken_at < publication.published_at:
        raise InvalidInput("taken_at is before the post was published", field="taken_at")
    values = body.model_dump(exclude={"taken_at"})
    existing = repo.snapshot_at(session, order.id, body.taken_at)
    if existing is not None:
        if _snapshot_values(existing) == values:
            return existing, False
        raise Conflict(
            "a different snapshot was already recorded at this taken_at",
            code="snapshot_conflict",
        )
    snapshot = MetricSnapshot(
        order_id=order.id,
        taken_at=body.taken_at,
        source=source,
        recorded_by=principal.actor_id,
        created_at=at,
        **values,
    )
    try:
        with session.begin_nested():
            repo.add(session, snapshot)
    except IntegrityError:
        raise Conflict(
            "a snapshot was recorded at this taken_at concurrently; retry", code="snapshot_conflict"
        ) from None
    return snapshot, True


def ingest_snapshots(
    session: Session, principal: Principal, items: list[schemas.MetricSnapshotBatchItem]
) -> schemas.MetricSnapshotBatchResult:
    """Many snapshots in one transaction (staff, or API keys with `metrics:write` for their
    organization's orders). Each item is judged alone: created, a duplicate of a stored
    snapshot, or rejected with a code; a rejected item does not stop the others."""
    from pappus.analytics.rollups import daily_rows, keep_daily

    if not principal.is_staff and principal.api_key_id is None:
        raise Forbidden(
            "metrics come from staff or an API key with the 'metrics:write' scope",
            code="metrics_source_not_allowed",
        )
    if not principal.is_staff and not principal.has_scope("metrics:write"):
        raise Forbidden("this API key lacks the 'metrics:write' scope", code="missing_scope")
    at = clock_now()
    found = repo.orders_by_ids(session, sorted({i.order_id for i in items}))
    published = {p.order_id: p.published_at for p in repo.publications_of(session, list(found))}
    results: list[schemas.BatchItemResult] = []
    rows: list[dict[str, Any]] = []
    pending: dict[int, dict[str, Any]] = {}
    for index, item in enumerate(items):
        order = found.get(item.order_id)
        problem = _snapshot_problem(principal, order, published, item, at)
        if problem is not None:
            code, detail = problem
            results.append(
                schemas.BatchItemResult(
                    index=index, order_id=item.order_id, status="rejected", code=code, detail=detail
                )
            )
            continue
        row = {
            "id": new_id("met"),
            "order_id": item.order_id,
            "taken_at": item.taken_at,
            **item.model_dump(exclude={"order_id", "taken_at"}),
            "source": "staff" if principal.is_staff else "api_key",
            "recorded_by": principal.actor_id,
            "created_at": at,
        }
        rows.append(row)
        pending[index] = row
        results.append(schemas.BatchItemResult(index=index, order_id=item.order_id, status=""))
    created = repo.insert_snapshots(session, rows)
    keep_daily(session, daily_rows([r for r in rows if r["id"] in created]))
    others = repo.snapshots_at(
        session, [(r["order_id"], r["taken_at"]) for r in rows if r["id"] not in created]
    )
    for index, row in pending.items():
        result = results[index]
        if row["id"] in created:
            result.status, result.id = "created", row["id"]
            continue
        stored = others.get((row["order_id"], row["taken_at"]))
        values = {k: row[k] for k in KPI_METRICS}
        if stored is not None and _snapshot_values(stored) == values:
            result.status, result.id = "duplicate", stored.id
        else:
            result.status, result.code = "rejected", "snapshot_conflict"
            result.detail = "a different snapshot is stored at this taken_at"
    return schemas.MetricSnapshotBatchResult(
        created=sum(r.status == "created" for r in results),
        duplicates=sum(r.status == "duplicate" for r in results),
        rejected=sum(r.status == "rejected" for r in results),
        results=results,
    )


def _snapshot_problem(
    principal: Principal,
    order: Order | None,
    published: dict[str, datetime],
    item: schemas.MetricSnapshotBatchItem,
    at: datetime,
) -> tuple[str, str] | None:
    if order is None or not (principal.is_staff or order.organization_id in principal.roles):
        return "not_found", "order not found"
    if order.state not in METRIC_STATES:
        return (
            "order_not_in_state",
            f"metrics are recorded only after publication ('{order.state}')",
        )
    published_at = published.get(order.id)
    if published_at is None:
        return "order_not_in_state", "metrics need a published post; this order has none"
    if item.taken_at > at + timedelta(minutes=5):
        return "invalid_input", "taken_at is in the future"
    if item.taken_at < published_at:
        return "invalid_input", "taken_at is before the post was published"
    return None


def list_metrics(
    session: Session, principal: Principal, order_id: str, after_id: str | None, limit: int
) -> list[MetricSnapshot]:
    order = get_order(session, principal, order_id)
    return list(repo.snapshots(session, order.id, after_id=after_id, limit=limit))


# -- timers ---------------------------------------------------------------------------------


def due_timers(session: Session, at: datetime, limit: int = 500) -> list[tuple[str, str]]:
    """(order id, action) pairs whose deadline has passed, for the sweep to fire one by one."""
    due: list[tuple[str, str]] = []
    for transition in timer_transitions():
        assert transition.timer is not None
        for state in transition.sources:
            for order_id in repo.due_order_ids(session, state, transition.timer, at, limit):
                due.append((order_id, transition.action))
    return due


def fire_timer(session: Session, order_id: str, action: str, at: datetime) -> bool:
    """Fire one timer; False (and no change) if the order has moved on or it already fired."""
    order = repo.get(session, order_id)
    if order is None:
        return False
    found: list[inflation.Finding] = []
    if action == "complete":
        publication = repo.publication(session, order.id)
        if publication is not None:
            snapshots = repo.snapshots_until(session, order.id, order.measurement_ends_at)
            audit = (publication.verification or {}).get("comment_audit")
            found = inflation.findings(snapshots, publication.published_at, audit)
    inflated = bool(found)
    transition = find_transition(action, Actor.system, _facts(order, at, None, inflated))
    if transition is None:
        return False
    data: dict[str, Any] = {"timer": action}
    if inflated:
        data["inflation"] = [{"check": f.check, "detail": f.detail} for f in found]
    if action == "deem_approval":
        draft = repo.latest_draft(session, order.id)
        if draft is not None and draft.status == "in_review":
            draft.status = "approved"
            draft.deemed = True
            draft.reviewed_at = at
            data["draft_id"] = draft.id
    state_before = order.state
    _apply(session, order, action, Actor.system, None, at, data, metrics_inflated=inflated)
    if action == "flag_publication":
        _open_dispute_row(
            session,
            order,
            Actor.system,
            None,
            _flag_reason(session, order, "; the payout is held for a staff review"),
            state_before,
        )
        order.compliance_fix_due_at = None
    elif transition.target == State.disputed:
        reason = "The post's metrics look inflated; the payout is held for a staff review: "
        reason += "; ".join(f.detail for f in found)
        _open_dispute_row(session, order, Actor.system, None, reason, state_before)
    return True


def _flag_reason(session: Session, order: Order, consequence: str) -> str:
    publication = repo.publication(session, order.id)
    removed = publication is not None and publication.post_status == "removed"
    what = "taken down" if removed else "left without its disclosure label"
    hours = get_settings().compliance_fix_hours
    return f"The post was {what} and not fixed within {hours} hours{consequence}"


def note_post_status(session: Session, order_id: str, post_status: str, at: datetime) -> None:
    """A scheduled read found the post live, unlabelled or removed: open the fix window on a
    published order (or a completed one, within the retention period) whose post lost its
    label or disappeared; close it when it is back."""
    order = repo.get(session, order_id)
    if order is None or order.state not in (State.published, State.completed):
        return
    if order.compliance_hold is not None:
        return  # already flagged; staff decide
    if post_status in {"label_removed", "removed"} and order.compliance_fix_due_at is None:
        due = at + timedelta(hours=get_settings().compliance_fix_hours)
        order.compliance_fix_due_at = due
        data = {"post_status": post_status, "fix_due_at": due.isoformat()}
        _record_event(
            session,
            order,
            "publication_issue",
            order.state,
            order.state,
            Actor.system,
            None,
            data,
            at,
        )
    elif post_status == "live" and order.compliance_fix_due_at is not None:
        order.compliance_fix_due_at = None
        _record_event(
            session,
            order,
            "publication_fixed",
            order.state,
            order.state,
            Actor.system,
            None,
            {"post_status": post_status},
            at,
        )
    try:
        session.flush()
    except StaleDataError:
        raise OrderChanged("the order changed while its post was checked") from None


def flag_retention_breaches(session: Session, at: datetime, limit: int = 500) -> int:
    """Completed orders whose post stayed down or unlabelled past the fix window: hold the
    creator's payouts until staff release them (the escrow was already settled)."""
    flagged = 0
    for order_id in repo.due_order_ids(
        session, State.completed, "compliance_fix_due_at", at, limit
    ):
        order = repo.get(session, order_id)
        if order is None or order.compliance_hold is not None:
            continue
        days = order.contract.get("post_retention_days")
        reason = _flag_reason(
            session,
            order,
            f", within the {days} days the contract asks it to stay up; the creator's payouts"
            " are held until staff release them",
        )
        order.compliance_hold, order.compliance_fix_due_at = reason, None
        _record_event(
            session,
            order,
            "retention_breach",
            order.state,
            order.state,
            Actor.system,
            None,
            {"reason": reason},
            at,
        )
        flagged += 1
    session.flush()
    return flagged


def release_compliance_hold(
    session: Session, principal: Principal, order_id: str, note: str
) -> Order:
    """Staff release a creator's payouts held for a retention breach, with a note."""
    principal.require_staff()
    order = get_order(session, principal, order_id)
    if order.compliance_hold is None:
        raise Conflict("this order holds no payout", code="no_compliance_hold")
    at = clock_now()
    _record_event(
        session,
        order,
        "release_compliance_hold",
        order.state,
        order.state,
        Actor.staff,
        principal.actor_id,
        {"note": note, "hold": order.compliance_hold},
        at,
    )
    order.compliance_hold = None
    session.flush()
    return order


def creator_payout_holds(session: Session, creator_id: str) -> list[str]:
    """Ids of the creator's orders whose retention breach holds their payouts."""
    return list(repo.held_order_ids(session, creator_id))


# -- for other domains ----------------------------------------------------------------------


ESCROW_STATES = tuple(s.value for s in ACTIVE | {State.completed})


def committed_escrow(session: Session, campaign_id: str) -> int:
    """Escrow held by the campaign's live orders plus what its completed orders used."""
    return repo.committed_escrow(session, campaign_id, ESCROW_STATES)


def committed_escrow_by_campaign(session: Session, campaign_ids: list[str]) -> dict[str, int]:
    return repo.committed_escrow_by_campaign(session, campaign_ids, ESCROW_STATES)


def active_order_count(session: Session, campaign_id: str) -> int:
    return repo.count_in_states(session, campaign_id, [s.value for s in ACTIVE])


def order_ids_for_sources(session: Session, source_ids: list[str]) -> dict[str, str]:
    return repo.order_ids_for_sources(session, source_ids)


def creators_worked_with(session: Session, principal: Principal) -> set[str]:
    """Creators with an order from any of the caller's organizations."""
    return repo.creators_with_orders(session, list(principal.roles))


def brand_has_order_with(session: Session, principal: Principal, creator_id: str) -> bool:
    return repo.has_order_between(session, list(principal.roles), creator_id)


def finished_order_ids(session: Session) -> set[str]:
    return set(repo.order_ids_in_states(session, [s.value for s in TERMINAL]))


def finished_among(session: Session, order_ids: list[str]) -> set[str]:
    """Which of `order_ids` are finished (one query; the ledger check asks in batches)."""
    return set(repo.order_ids_in_states(session, [s.value for s in TERMINAL], order_ids))


def settlement_violations(session: Session) -> list[str]:
    """Finished orders whose fees differ from their contract's snapshotted rates."""
    problems = []
    for order in repo.settled_orders(session):
        split = order.settlement
        money = order.contract["money"]
        gross = split.get("creator_gross_amount", 0)
        fee = apply_rate(gross, money["brand_fee_bp"])
        commission = apply_rate(gross, money["creator_commission_bp"])
        expected = {
            "brand_fee_amount": fee,
            "creator_commission_amount": commission,
            "to_creator": gross - commission,
            "to_platform": fee + commission,
            "to_brand": order.escrow_amount - gross - fee,
        }
        for key, value in expected.items():
            if split.get(key) != value:
                problems.append(f"order {order.id}: {key} is {split.get(key)}, rates say {value}")
    return problems
