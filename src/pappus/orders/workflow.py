"""The order workflow as data: states, actors, guards, timers and the transition table.

Everything that decides what may happen to an order reads this table: the service applying an
action, `GET /orders/{id}`'s allowed actions, the timer sweep and the Mermaid diagram in
docs/architecture.md (`pappus workflow diagram`). Rows are tried in order; the first whose
actor, source state and guard match is the one that applies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

WORKFLOW_VERSION = 1


class State(StrEnum):
    awaiting_draft = "awaiting_draft"
    draft_review = "draft_review"
    changes_requested = "changes_requested"
    approved = "approved"
    published = "published"
    completed = "completed"
    cancelled = "cancelled"
    disputed = "disputed"


TERMINAL = frozenset({State.completed, State.cancelled})
ACTIVE = frozenset(set(State) - TERMINAL)


class Actor(StrEnum):
    creator = "creator"
    brand = "brand"
    staff = "staff"
    system = "system"


class Payout(StrEnum):
    """How the escrow is settled when a transition ends the order (see orders/settlement.py)."""

    full_refund = "full_refund"
    by_stage = "by_stage"
    release_with_kpis = "release_with_kpis"
    by_resolution = "by_resolution"


@dataclass(frozen=True)
class OrderFacts:
    """What guards may look at: a pure view of an order at a moment."""

    state: State
    now: datetime
    revisions_used: int
    revision_limit: int
    draft_due_at: datetime | None
    review_due_at: datetime | None
    publish_due_at: datetime | None
    measurement_ends_at: datetime | None
    resolution: str | None = None  # only for resolve_dispute
    metrics_inflated: bool = False  # only for complete (orders/inflation.py)
    # The latest draft has a blocking compliance finding (compliance/) and no staff override.
    draft_blocked: bool = False
    # Set when a scheduled read finds the post unlabelled or removed (orders/publishing.py),
    # cleared when it is fixed in time.
    compliance_fix_due_at: datetime | None = None


def _due(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and moment <= now


GUARDS: dict[str, tuple[str, Callable[[OrderFacts], bool]]] = {
    "revisions_remaining": (
        "fewer change requests than the contract's revision limit",
        lambda f: f.revisions_used < f.revision_limit,
    ),
    "revision_cap_reached": (
        "the revision limit is used up: a further request opens a dispute",
        lambda f: f.revisions_used >= f.revision_limit,
    ),
    "draft_overdue": (
        "the draft deadline has passed without a draft in review",
        lambda f: _due(f.draft_due_at, f.now),
    ),
    "publication_overdue": (
        "the publication deadline has passed",
        lambda f: _due(f.publish_due_at, f.now),
    ),
    "review_deadline_passed": (
        "the brand let the review deadline pass",
        lambda f: _due(f.review_due_at, f.now),
    ),
    "measurement_window_over": (
        "the measurement window has ended, the post's metrics look genuine and no fix window"
        " is open",
        lambda f: (
            _due(f.measurement_ends_at, f.now)
            and not f.metrics_inflated
            and f.compliance_fix_due_at is None
        ),
    ),
    "measurement_over_metrics_inflated": (
        "the measurement window has ended, the post's metrics look inflated and no fix window"
        " is open",
        lambda f: (
            _due(f.measurement_ends_at, f.now)
            and f.metrics_inflated
            and f.compliance_fix_due_at is None
        ),
    ),
    "publication_fix_overdue": (
        "the post lost its disclosure label or was taken down, and the fix window has passed",
        lambda f: _due(f.compliance_fix_due_at, f.now),
    ),
    "draft_blocked": (
        "the latest draft has a blocking compliance finding that staff have not overridden",
        lambda f: f.draft_blocked,
    ),
    "resolution_pays_creator": (
        "staff resolved by releasing to, or splitting with, the creator",
        lambda f: f.resolution in {"release", "split"},
    ),
    "resolution_refunds_brand": (
        "staff resolved by refunding the brand in full",
        lambda f: f.resolution == "refund",
    ),
}


@dataclass(frozen=True)
class Transition:
    action: str
    actor: Actor
    sources: frozenset[State]
    target: State
    guard: str | None = None
    # The deadline column whose expiry fires this (system) transition in the timer sweep.
    timer: str | None = None
    # Deadline columns set when this transition is taken, from the contract's durations.
    arms: tuple[str, ...] = ()
    payout: Payout | None = None
    description: str = ""


def _states(*states: State) -> frozenset[State]:
    return frozenset(states)


PRE_PUBLICATION = _states(
    State.awaiting_draft, State.draft_review, State.changes_requested, State.approved
)
WRITING = _states(State.awaiting_draft, State.changes_requested)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "submit_draft",
        Actor.creator,
        WRITING,
        State.draft_review,
        arms=("review_due_at",),
        description="creator submits a draft for review",
    ),
    Transition(
        "return_for_compliance",
        Actor.system,
        _states(State.draft_review),
        State.changes_requested,
        guard="draft_blocked",
        arms=("draft_due_at",),
        description="the compliance check found a blocking problem in the draft: back to the"
        " creator with the findings, no revision used",
    ),
    Transition(
        "override_compliance",
        Actor.staff,
        _states(State.changes_requested),
        State.draft_review,
        guard="draft_blocked",
        arms=("review_due_at",),
        description="staff let a blocked draft go to the brand's review, with a recorded reason",
    ),
    Transition(
        "approve_draft",
        Actor.brand,
        _states(State.draft_review),
        State.approved,
        arms=("publish_due_at",),
        description="brand approves the draft",
    ),
    Transition(
        "request_changes",
        Actor.brand,
        _states(State.draft_review),
        State.changes_requested,
        guard="revisions_remaining",
        arms=("draft_due_at",),
        description="brand asks for changes within the revision limit",
    ),
    Transition(
        "request_changes",
        Actor.brand,
        _states(State.draft_review),
        State.disputed,
        guard="revision_cap_reached",
        description="a change request beyond the revision limit escalates to a dispute",
    ),
    Transition(
        "deem_approval",
        Actor.system,
        _states(State.draft_review),
        State.approved,
        guard="review_deadline_passed",
        timer="review_due_at",
        arms=("publish_due_at",),
        description="the brand stayed silent past the review deadline: deemed approved",
    ),
    Transition(
        "publish",
        Actor.creator,
        _states(State.approved),
        State.published,
        arms=("measurement_ends_at",),
        description="creator publishes and submits the post",
    ),
    Transition(
        "complete",
        Actor.system,
        _states(State.published),
        State.completed,
        guard="measurement_window_over",
        timer="measurement_ends_at",
        payout=Payout.release_with_kpis,
        description="measurement window over: KPIs evaluated, escrow released",
    ),
    Transition(
        "complete",
        Actor.system,
        _states(State.published),
        State.disputed,
        guard="measurement_over_metrics_inflated",
        timer="measurement_ends_at",
        description="measurement window over but the metrics look inflated: the payout is held"
        " and staff review the order",
    ),
    Transition(
        "flag_publication",
        Actor.system,
        _states(State.published),
        State.disputed,
        guard="publication_fix_overdue",
        timer="compliance_fix_due_at",
        description="the post lost its disclosure label or was taken down and was not fixed"
        " in time: the payout is held and staff review the order",
    ),
    Transition(
        "cancel",
        Actor.brand,
        WRITING,
        State.cancelled,
        guard="draft_overdue",
        payout=Payout.full_refund,
        description="creator missed the draft deadline: brand cancels with a full refund",
    ),
    Transition(
        "cancel",
        Actor.brand,
        _states(State.approved),
        State.cancelled,
        guard="publication_overdue",
        payout=Payout.full_refund,
        description="creator missed the publication deadline: full refund",
    ),
    Transition(
        "cancel",
        Actor.brand,
        PRE_PUBLICATION,
        State.cancelled,
        payout=Payout.by_stage,
        description="brand cancels; the creator keeps the stage's kill fee",
    ),
    Transition(
        "cancel",
        Actor.creator,
        PRE_PUBLICATION,
        State.cancelled,
        payout=Payout.full_refund,
        description="creator withdraws before publication; the brand is refunded in full",
    ),
    Transition(
        "open_dispute",
        Actor.brand,
        PRE_PUBLICATION | {State.published},
        State.disputed,
        description="brand disputes the order",
    ),
    Transition(
        "open_dispute",
        Actor.creator,
        PRE_PUBLICATION | {State.published},
        State.disputed,
        description="creator disputes the order",
    ),
    Transition(
        "resolve_dispute",
        Actor.staff,
        _states(State.disputed),
        State.completed,
        guard="resolution_pays_creator",
        payout=Payout.by_resolution,
        description="staff release the escrow to the creator, or split it",
    ),
    Transition(
        "resolve_dispute",
        Actor.staff,
        _states(State.disputed),
        State.cancelled,
        guard="resolution_refunds_brand",
        payout=Payout.by_resolution,
        description="staff refund the brand",
    ),
)

# Which contract duration (in days) arms each deadline column.
DEADLINE_DURATIONS: dict[str, str] = {
    "draft_due_at": "draft_due_days",
    "review_due_at": "review_days",
    "publish_due_at": "publish_due_days",
    "measurement_ends_at": "measurement_days",
}

# The creator's share of the price, in basis points, when the brand cancels at each stage
# without the creator being in default. Snapshotted on every contract.
CANCELLATION_STAGE_SHARE_BP: dict[str, int] = {
    State.awaiting_draft: 0,
    State.draft_review: 3000,
    State.changes_requested: 3000,
    State.approved: 5000,
}

# How each action is reached over HTTP (for the allowed-actions list).
ACTION_ENDPOINTS: dict[str, tuple[str, str]] = {
    "submit_draft": ("POST", "/api/v1/orders/{id}/drafts"),
    "approve_draft": ("POST", "/api/v1/orders/{id}/drafts/{draft_id}/approve"),
    "request_changes": ("POST", "/api/v1/orders/{id}/drafts/{draft_id}/request-changes"),
    "override_compliance": (
        "POST",
        "/api/v1/orders/{id}/drafts/{draft_id}/compliance-override",
    ),
    "publish": ("POST", "/api/v1/orders/{id}/publication"),
    "cancel": ("POST", "/api/v1/orders/{id}/cancel"),
    "open_dispute": ("POST", "/api/v1/orders/{id}/disputes"),
    "resolve_dispute": ("POST", "/api/v1/disputes/{dispute_id}/resolve"),
}


def guard_passes(transition: Transition, facts: OrderFacts) -> bool:
    if transition.guard is None:
        return True
    return GUARDS[transition.guard][1](facts)


def find_transition(action: str, actor: Actor, facts: OrderFacts) -> Transition | None:
    """The first row of the table that lets `actor` take `action` now, or None."""
    for transition in TRANSITIONS:
        if (
            transition.action == action
            and transition.actor == actor
            and facts.state in transition.sources
            and guard_passes(transition, facts)
        ):
            return transition
    return None


def allowed_actions(actors: set[Actor], facts: OrderFacts) -> list[Transition]:
    """Transitions the given actors may take now, one per action (the first that applies)."""
    seen: set[str] = set()
    allowed: list[Transition] = []
    for transition in TRANSITIONS:
        if transition.action in seen or transition.actor not in actors:
            continue
        if transition.guard in {"resolution_pays_creator", "resolution_refunds_brand"}:
            applies = facts.state in transition.sources  # the resolution is the caller's choice
        else:
            applies = facts.state in transition.sources and guard_passes(transition, facts)
        if applies:
            seen.add(transition.action)
            allowed.append(transition)
    return allowed


def timer_transitions() -> list[Transition]:
    return [t for t in TRANSITIONS if t.timer is not None]


def deadline(start: datetime, days: int) -> datetime:
    return start + timedelta(days=days)


def reachable_states() -> set[State]:
    reached = {State.awaiting_draft}
    frontier = [State.awaiting_draft]
    while frontier:
        state = frontier.pop()
        for transition in TRANSITIONS:
            if state in transition.sources and transition.target not in reached:
                reached.add(transition.target)
                frontier.append(transition.target)
    return reached


def mermaid() -> str:
    """The state diagram, generated from the table so it cannot drift from the code."""
    lines = ["stateDiagram-v2", f"    [*] --> {State.awaiting_draft}: order created (escrow held)"]
    for transition in TRANSITIONS:
        label = f"{transition.action} ({transition.actor}"
        if transition.guard:
            label += f", if {transition.guard}"
        if transition.timer:
            label += f", timer {transition.timer}"
        label += ")"
        for source in sorted(transition.sources):
            lines.append(f"    {source} --> {transition.target}: {label}")
    for state in sorted(TERMINAL):
        lines.append(f"    {state} --> [*]")
    return "\n".join(lines) + "\n"
