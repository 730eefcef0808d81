"""Property tests of the order workflow's transition table, and a model-based walk over it.

No database here: these read `pappus.orders.workflow` only, so they run many examples fast.
The HTTP-level walk over a real order is in test_workflow_http_properties.py.
"""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from pappus.orders.workflow import (
    ACTION_ENDPOINTS,
    ACTIVE,
    CANCELLATION_STAGE_SHARE_BP,
    DEADLINE_DURATIONS,
    GUARDS,
    TERMINAL,
    TRANSITIONS,
    Actor,
    OrderFacts,
    Payout,
    State,
    Transition,
    allowed_actions,
    deadline,
    find_transition,
    guard_passes,
    reachable_states,
    timer_transitions,
)

BASE = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
ACTIONS = sorted({t.action for t in TRANSITIONS})
DEADLINE_COLUMNS = tuple(DEADLINE_DURATIONS)
RESOLUTION_GUARDS = {"resolution_pays_creator", "resolution_refunds_brand"}
# Which deadline each time-based guard reads (the property below checks the guard does).
DEADLINE_GUARDS = {
    "draft_overdue": "draft_due_at",
    "review_deadline_passed": "review_due_at",
    "publication_overdue": "publish_due_at",
    "measurement_window_over": "measurement_ends_at",
    "measurement_over_metrics_inflated": "measurement_ends_at",
    "publication_fix_overdue": "compliance_fix_due_at",
}
# Deadlines armed by an event rather than by a transition: a scheduled read of the post
# opens the fix window (orders/publishing.py), and a read that finds it fixed closes it.
ARMED_BY_EVENTS = {"compliance_fix_due_at"}
# The two guards that end the measurement window also read whether the metrics look inflated,
# and wait while a fix window is open.
ALSO_READS = {
    "measurement_window_over": lambda f: not f.metrics_inflated and f.compliance_fix_due_at is None,
    "measurement_over_metrics_inflated": lambda f: (
        f.metrics_inflated and f.compliance_fix_due_at is None
    ),
}
# create_order arms the draft deadline; it is the workflow's implicit first transition.
ARMED_AT_CREATION = {State.awaiting_draft: ("draft_due_at",)}

# -- strategies -----------------------------------------------------------------------------

# Offsets from "now", dense around the boundary where `deadline <= now` flips.
offsets = st.one_of(
    st.sampled_from(
        [
            timedelta(0),
            timedelta(microseconds=1),
            -timedelta(microseconds=1),
            timedelta(days=1),
            -timedelta(days=1),
        ]
    ),
    st.integers(-60 * 24 * 60, 60 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes)),
)
deadlines = st.one_of(st.none(), offsets.map(lambda delta: BASE + delta))
resolutions = st.sampled_from([None, "release", "refund", "split", "bogus"])
actors = st.sampled_from(list(Actor))
actor_sets = st.sets(st.sampled_from(list(Actor)))
action_names = st.sampled_from([*ACTIONS, "no_such_action"])


@st.composite
def order_facts(draw: st.DrawFn, state: st.SearchStrategy[State] | None = None) -> OrderFacts:
    limit = draw(st.integers(0, 10))
    return OrderFacts(
        state=draw(state if state is not None else st.sampled_from(list(State))),
        now=BASE,
        revisions_used=draw(st.integers(0, 12)),
        revision_limit=limit,
        draft_due_at=draw(deadlines),
        review_due_at=draw(deadlines),
        publish_due_at=draw(deadlines),
        measurement_ends_at=draw(deadlines),
        resolution=draw(resolutions),
        metrics_inflated=draw(st.booleans()),
    )


def rows_that_apply(action: str, actor: Actor, facts: OrderFacts) -> list[Transition]:
    return [
        t
        for t in TRANSITIONS
        if t.action == action
        and t.actor == actor
        and facts.state in t.sources
        and guard_passes(t, facts)
    ]


def due(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and moment <= now


# -- the table's shape ----------------------------------------------------------------------


def test_every_row_is_well_formed() -> None:
    for t in TRANSITIONS:
        assert isinstance(t.actor, Actor), t
        assert isinstance(t.target, State), t
        assert t.sources and all(isinstance(s, State) for s in t.sources), t
        assert t.guard is None or t.guard in GUARDS, t
        assert t.timer is None or t.timer in {*DEADLINE_DURATIONS, *ARMED_BY_EVENTS}, t
        assert all(column in DEADLINE_DURATIONS for column in t.arms), t
        assert t.payout is None or isinstance(t.payout, Payout), t
        assert t.action in ACTION_ENDPOINTS or t.actor == Actor.system, t
        assert t.description, t


def test_terminal_states_have_no_outgoing_rows() -> None:
    assert {s for t in TRANSITIONS for s in t.sources} & TERMINAL == set()
    assert set(State) == ACTIVE | TERMINAL and not ACTIVE & TERMINAL


def test_rows_ending_the_order_settle_it_and_no_other_row_does() -> None:
    for t in TRANSITIONS:
        assert (t.payout is not None) == (t.target in TERMINAL), t


def test_every_state_is_reachable_from_awaiting_draft() -> None:
    assert reachable_states() == set(State)


def test_every_active_state_can_still_end() -> None:
    # no trap: from every active state some path of rows leads to a terminal state
    edges = {(s, t.target) for t in TRANSITIONS for s in t.sources}
    can_end = set(TERMINAL)
    while True:
        more = {s for s, target in edges if target in can_end} - can_end
        if not more:
            break
        can_end |= more
    assert can_end == set(State)


def test_every_system_row_is_a_timer_on_its_own_guard_deadline() -> None:
    assert timer_transitions(), "the workflow has timers"
    # The one system row that is not a timer is fired by the compliance check at submission.
    event_driven = {"return_for_compliance"}
    for t in TRANSITIONS:
        if t.action in event_driven:
            assert t.actor == Actor.system and t.timer is None
            assert t.guard is not None and t.guard not in DEADLINE_GUARDS, t
            continue
        assert (t.actor == Actor.system) == (t.timer is not None), t
    for t in timer_transitions():
        assert t.guard is not None and DEADLINE_GUARDS[t.guard] == t.timer, t


def test_a_deadline_a_guard_reads_is_armed_on_every_way_into_its_state() -> None:
    # otherwise a guard (or the sweep) would read a stale or missing deadline
    for guarded in TRANSITIONS:
        column = DEADLINE_GUARDS.get(guarded.guard or "")
        if column is None or column in ARMED_BY_EVENTS:
            continue
        for state in guarded.sources:
            entries = [t for t in TRANSITIONS if t.target == state]
            for entry in entries:
                assert column in entry.arms, (guarded.action, state, entry)
            if not entries:
                assert column in ARMED_AT_CREATION.get(state, ()), (guarded.action, state)
    assert not [t for t in TRANSITIONS if t.target == State.awaiting_draft]


def test_stage_kill_fees_cover_exactly_the_states_a_by_stage_row_leaves() -> None:
    by_stage = {s for t in TRANSITIONS if t.payout == Payout.by_stage for s in t.sources}
    assert set(CANCELLATION_STAGE_SHARE_BP) == by_stage
    assert all(0 <= bp <= 10_000 for bp in CANCELLATION_STAGE_SHARE_BP.values())


def test_unguarded_fallback_rows_come_after_every_guarded_alternative() -> None:
    # Rows are tried in order; an unguarded row followed by another row for the same
    # (action, actor, state) would make that later row dead.
    for action, actor, state in itertools.product(ACTIONS, Actor, State):
        candidates = [
            t for t in TRANSITIONS if t.action == action and t.actor == actor and state in t.sources
        ]
        unguarded = [i for i, t in enumerate(candidates) if t.guard is None]
        assert len(unguarded) <= 1, (action, actor, state)
        if unguarded:
            assert unguarded[0] == len(candidates) - 1, (action, actor, state)


def test_no_row_is_dead() -> None:
    # every (row, source state) is the first match for some facts on a small grid
    grid = [
        OrderFacts(
            state=state,
            now=BASE,
            revisions_used=used,
            revision_limit=1,
            draft_due_at=draft,
            review_due_at=review,
            publish_due_at=publish,
            measurement_ends_at=measurement,
            resolution=resolution,
            metrics_inflated=inflated,
            draft_blocked=blocked,
            compliance_fix_due_at=fix,
        )
        for state, used, draft, review, publish, measurement, resolution, inflated, blocked, fix in (
            itertools.product(
                State,
                (0, 1),
                *[(None, BASE - timedelta(days=1), BASE + timedelta(days=1))] * 4,
                (None, "release", "split", "refund"),
                (False, True),
                (False, True),
                (None, BASE - timedelta(hours=1)),
            )
        )
    ]
    live = {
        (chosen, facts.state)
        for facts in grid
        for action, actor in itertools.product(ACTIONS, Actor)
        if (chosen := find_transition(action, actor, facts)) is not None
    }
    for t in TRANSITIONS:
        for state in t.sources:
            assert (t, state) in live, (t.action, t.actor, state, t.guard)


# -- find_transition ------------------------------------------------------------------------


@settings(max_examples=500)
@given(facts=order_facts(), action=action_names, actor=actors)
def test_find_transition_returns_the_first_row_that_applies(
    facts: OrderFacts, action: str, actor: Actor
) -> None:
    found = find_transition(action, actor, facts)
    applying = rows_that_apply(action, actor, facts)
    if found is None:
        assert applying == []
        return
    assert found is applying[0]
    assert found.action == action and found.actor == actor
    assert facts.state in found.sources
    assert guard_passes(found, facts)
    assert isinstance(found.target, State)
    assert facts.state not in TERMINAL


@settings(max_examples=300)
@given(
    facts=order_facts(state=st.sampled_from(sorted(TERMINAL))), action=action_names, actor=actors
)
def test_terminal_states_are_absorbing(facts: OrderFacts, action: str, actor: Actor) -> None:
    assert find_transition(action, actor, facts) is None
    assert allowed_actions(set(Actor), facts) == []


@settings(max_examples=500)
@given(facts=order_facts())
def test_guarded_alternatives_are_mutually_exclusive(facts: OrderFacts) -> None:
    for action, actor in itertools.product(ACTIONS, Actor):
        guarded = [t for t in rows_that_apply(action, actor, facts) if t.guard is not None]
        assert len(guarded) <= 1, (action, actor, facts.state, [t.guard for t in guarded])


@settings(max_examples=300)
@given(facts=order_facts(state=st.just(State.draft_review)))
def test_a_change_request_in_review_always_has_exactly_one_outcome(facts: OrderFacts) -> None:
    # the revision guards are complementary: within the limit, or escalate to a dispute
    applying = rows_that_apply("request_changes", Actor.brand, facts)
    assert len(applying) == 1
    expected = (
        State.changes_requested if facts.revisions_used < facts.revision_limit else State.disputed
    )
    assert applying[0].target == expected


@settings(max_examples=300)
@given(facts=order_facts(state=st.just(State.disputed)))
def test_a_dispute_ends_exactly_by_its_resolution(facts: OrderFacts) -> None:
    found = find_transition("resolve_dispute", Actor.staff, facts)
    expected = {"release": State.completed, "split": State.completed, "refund": State.cancelled}
    if facts.resolution in expected:
        assert found is not None and found.target == expected[facts.resolution]
    else:
        assert found is None


@settings(max_examples=500)
@given(facts=order_facts(), moved=offsets)
def test_deadline_guards_read_exactly_their_deadline(facts: OrderFacts, moved: timedelta) -> None:
    for name, column in DEADLINE_GUARDS.items():
        check = GUARDS[name][1]
        also = ALSO_READS.get(name, lambda _: True)
        assert check(facts) == (due(getattr(facts, column), facts.now) and also(facts)), name
        # moving any other deadline never changes the guard
        for other in DEADLINE_COLUMNS:
            if other != column:
                shifted = dataclasses.replace(facts, **{other: BASE + moved})
                assert check(shifted) == check(facts), (name, other)


@settings(max_examples=500)
@given(facts=order_facts(), later=st.integers(0, 90 * 24 * 60).map(lambda m: timedelta(minutes=m)))
def test_deadline_guards_stay_true_as_time_passes(facts: OrderFacts, later: timedelta) -> None:
    # a deadline that has passed stays passed: timers cannot un-fire
    afterwards = dataclasses.replace(facts, now=facts.now + later)
    for name in DEADLINE_GUARDS:
        check = GUARDS[name][1]
        assert not check(facts) or check(afterwards), name


# -- allowed_actions ------------------------------------------------------------------------


def first_row_actor(action: str, acting: set[Actor]) -> Actor | None:
    """The role the service acts in for `action` (orders.service._pick_actor's choice)."""
    return next((t.actor for t in TRANSITIONS if t.action == action and t.actor in acting), None)


@settings(max_examples=500)
@given(facts=order_facts(), acting=actor_sets)
def test_allowed_actions_agree_with_find_transition(facts: OrderFacts, acting: set[Actor]) -> None:
    allowed = allowed_actions(acting, facts)
    listed = [t.action for t in allowed]
    assert len(listed) == len(set(listed)), "one entry per action"
    for t in allowed:
        assert t.actor in acting
        # the service acts in the first role the table names for the action
        assert t.actor == first_row_actor(t.action, acting)
        if t.guard in RESOLUTION_GUARDS:
            # resolve_dispute is listed whatever the caller will choose; some choice works
            assert any(
                find_transition(t.action, t.actor, dataclasses.replace(facts, resolution=r))
                for r in ("release", "split", "refund")
            )
        else:
            assert find_transition(t.action, t.actor, facts) is t
    # and nothing the table would let these roles do is missing
    for action, actor in itertools.product(ACTIONS, acting):
        for resolution in (None, "release", "split", "refund"):
            if find_transition(action, actor, dataclasses.replace(facts, resolution=resolution)):
                assert action in listed, (action, actor, facts.state)


@settings(max_examples=300)
@given(facts=order_facts(state=st.sampled_from(sorted(ACTIVE))))
def test_every_active_order_has_someone_who_can_move_it(facts: OrderFacts) -> None:
    # no deadlock: a person (not only a timer) can always move a live order on
    assert any(t.actor != Actor.system for t in allowed_actions(set(Actor), facts))


# -- a model-based walk ---------------------------------------------------------------------

durations = st.fixed_dictionaries(
    {name: st.integers(1, 10) for name in DEADLINE_DURATIONS.values()}
)
steps = st.one_of(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=12)),
    st.sampled_from([timedelta(days=d) for d in range(1, 11)]),
)


class OrderModel(RuleBasedStateMachine):
    """An in-memory order driven only by the table: actions by random actors, time passing
    and timer sweeps. Every change is recorded as an event, as the service does."""

    @initialize(days=durations, revision_limit=st.integers(0, 3))
    def create(self, days: dict[str, int], revision_limit: int) -> None:
        self.days = days
        self.now = BASE
        self.state = State.awaiting_draft
        self.revisions_used = 0
        self.revision_limit = revision_limit
        # The fix window is opened by a read of the post, not by a transition: never here.
        self.deadlines: dict[str, datetime | None] = dict.fromkeys(
            [*DEADLINE_COLUMNS, *ARMED_BY_EVENTS]
        )
        self.deadlines["draft_due_at"] = deadline(self.now, days["draft_due_days"])
        self.entered_at = {State.awaiting_draft: self.now}
        self.events: list[tuple[str, State | None, State, Actor]] = [
            ("create_order", None, State.awaiting_draft, Actor.brand)
        ]
        self.ended = False

    def facts(self, resolution: str | None = None) -> OrderFacts:
        return OrderFacts(
            state=self.state,
            now=self.now,
            revisions_used=self.revisions_used,
            revision_limit=self.revision_limit,
            resolution=resolution,
            **self.deadlines,
        )

    def apply(self, action: str, actor: Actor, resolution: str | None = None) -> bool:
        """The service's _apply, minus the database: False if the table refuses."""
        before = self.state
        transition = find_transition(action, actor, self.facts(resolution))
        if transition is None:
            return False
        assert before not in TERMINAL
        self.state = transition.target
        for column in transition.arms:
            self.deadlines[column] = deadline(self.now, self.days[DEADLINE_DURATIONS[column]])
        if action == "request_changes" and transition.target == State.changes_requested:
            self.revisions_used += 1
        self.entered_at[self.state] = self.now
        self.events.append((action, before, self.state, actor))
        self.ended = self.state in TERMINAL
        return True

    @rule(action=action_names, actor=actors, resolution=resolutions)
    def act(self, action: str, actor: Actor, resolution: str | None) -> None:
        state, ended, count = self.state, self.ended, len(self.events)
        moved = self.apply(action, actor, resolution)
        if ended:
            assert not moved and self.state == state
        if not moved:
            assert self.state == state and len(self.events) == count

    @precondition(lambda self: not self.ended)
    @rule(
        action=st.sampled_from(ACTIONS), resolution=st.sampled_from(["release", "split", "refund"])
    )
    def someone_allowed_acts(self, action: str, resolution: str) -> None:
        # whatever allowed_actions offers to a role, that role can then do
        allowed = {t.action: t for t in allowed_actions(set(Actor), self.facts())}
        if action in allowed:
            offered = allowed[action]
            target = find_transition(action, offered.actor, self.facts(resolution))
            if offered.guard not in RESOLUTION_GUARDS:
                assert target is offered
            if target is not None:
                assert self.apply(action, offered.actor, resolution)

    @rule(step=steps)
    def time_passes(self, step: timedelta) -> None:
        self.now += step

    @rule()
    def sweep(self) -> None:
        # like orders.tasks.sweep_due_timers: collect what is due, then fire each once
        facts = self.facts()
        due_now = sorted(
            {
                t.action
                for t in timer_transitions()
                if facts.state in t.sources and due(self.deadlines[t.timer or ""], self.now)
            }
        )
        assert len(due_now) <= 1, "one timer action per state (its rows differ by guard)"
        for action in due_now:
            assert self.apply(action, Actor.system)

    @invariant()
    def revisions_stay_within_the_limit(self) -> None:
        assert 0 <= self.revisions_used <= self.revision_limit

    @invariant()
    def deadlines_the_state_needs_are_armed_from_when_it_was_entered(self) -> None:
        needed = {
            State.awaiting_draft: "draft_due_at",
            State.changes_requested: "draft_due_at",
            State.draft_review: "review_due_at",
            State.approved: "publish_due_at",
            State.published: "measurement_ends_at",
        }
        column = needed.get(self.state)
        if column is not None:
            entered = self.entered_at[self.state]
            assert self.deadlines[column] == entered + timedelta(
                days=self.days[DEADLINE_DURATIONS[column]]
            )

    @invariant()
    def the_events_replay_to_the_state(self) -> None:
        assert self.events[0][1] is None
        for previous, event in itertools.pairwise(self.events):
            assert event[1] == previous[2]
            assert event[1] not in TERMINAL
        assert self.events[-1][2] == self.state
        assert self.state in reachable_states()

    @invariant()
    def only_a_staff_resolution_or_a_timer_ends_a_published_order(self) -> None:
        for action, before, after, actor in self.events:
            if before == State.published and after in TERMINAL:
                assert actor == Actor.system and action == "complete"
            if before == State.disputed:
                assert actor == Actor.staff and action == "resolve_dispute"


OrderModel.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
TestOrderModel = OrderModel.TestCase
