"""A property walk over a real order through the HTTP API, on each database backend.

Random actions by random callers (the creator, the brand's owner, a brand viewer, another
brand, staff) and time passing with the timer sweep. A model driven only by the transition
table predicts each answer; the test checks the server agrees, never answers 500, changes the
order only as the table allows, arms the deadlines the table names, settles terminal orders by
the table's payout, and records exactly one hash-chained event per change and none otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pappus.kit.clock import clock
from pappus.orders import inflation, service
from pappus.orders.settlement import Terms, evaluate_kpis, kpi_bonus, split_escrow
from pappus.orders.workflow import (
    CANCELLATION_STAGE_SHARE_BP,
    DEADLINE_DURATIONS,
    TERMINAL,
    TRANSITIONS,
    Actor,
    OrderFacts,
    Payout,
    State,
    Transition,
    allowed_actions,
    find_transition,
    timer_transitions,
)
from tests.fixtures.builders import Who, World, ok

PROBLEM = "application/problem+json"
MAX_STEPS = 20
PEOPLE = ("creator", "owner", "viewer", "outsider", "staff")
# The roles each caller may act in on the order; None: not a party (the order is not found).
ACTING: dict[str, set[Actor] | None] = {
    "creator": {Actor.creator},
    "owner": {Actor.brand},
    "viewer": set(),  # reads only
    "outsider": None,
    "staff": {Actor.staff},
}
CREATED = {
    "submit_draft": 201,
    "approve_draft": 200,
    "request_changes": 200,
    "publish": 201,
    "cancel": 200,
    "open_dispute": 201,
    "resolve_dispute": 200,
}
ACTIONS = tuple(CREATED)
# Snapshots are taken only for an order with a published post, in these states.
METRIC_STATES = {State.published, State.disputed, State.completed}
ENDING = {"cancel", "open_dispute"}
WALLET_TOP_UP = 20_000_000  # > the largest escrow a plan makes (price + bonus cap + fees)
UNKNOWN_ID = "zz_0000000000000000000000000000"


# -- steps ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Act:
    who: str
    action: str
    draft: str = "latest"  # latest | earlier | unknown, for approve and request changes
    dispute: str = "known"  # known | unknown, for resolve
    resolution: str | None = None
    share: int | None = None


@dataclass(frozen=True)
class Wait:
    """Time passes, then the timer sweep runs (the system actor)."""

    delta: timedelta


@dataclass(frozen=True)
class Measure:
    """Staff record a metric snapshot now (never a state change)."""

    views: int
    likes: int


resolutions = st.one_of(
    st.sampled_from([("release", None), ("refund", None)]),
    st.tuples(st.just("split"), st.integers(0, 10_000)),
    # malformed bodies: a 422, whoever sends them
    st.sampled_from([("split", None), ("release", 5000), ("refund", 0)]),
)


def acts(who: st.SearchStrategy[str], action: st.SearchStrategy[str]) -> st.SearchStrategy[Act]:
    return st.builds(
        lambda w, a, draft, dispute, res: Act(w, a, draft, dispute, res[0], res[1]),
        who,
        action,
        st.sampled_from(["latest", "latest", "earlier", "unknown"]),
        st.sampled_from(["known", "known", "known", "unknown"]),
        resolutions,
    )


waits = st.builds(
    Wait,
    st.one_of(
        st.sampled_from([timedelta(days=d) for d in range(5)]),  # lands exactly on deadlines
        st.integers(1, 5 * 24).map(lambda hours: timedelta(hours=hours)),
    ),
)
measures = st.builds(Measure, st.integers(0, 20_000), st.integers(0, 2_000))


def steps(sensible: list[tuple[str, str]]) -> st.SearchStrategy[Act | Wait | Measure]:
    """Any step, weighted towards what the table allows someone now, and most towards the
    actions that move the order forward (cancelling and disputing end walks early)."""
    anything = acts(st.sampled_from(PEOPLE), st.sampled_from(ACTIONS))
    if not sensible:
        return st.one_of(anything, waits, measures)
    forward = [p for p in sensible if p[1] not in ENDING]
    likely = st.sampled_from(sensible).flatmap(lambda p: acts(st.just(p[0]), st.just(p[1])))
    onward: st.SearchStrategy[Act | Wait] = waits  # published: only the timer moves it on
    if forward:
        onward = st.sampled_from(forward).flatmap(lambda p: acts(st.just(p[0]), st.just(p[1])))
    return st.one_of(onward, onward, onward, likely, anything, waits, measures)


plans = st.fixed_dictionaries(
    {
        "timeline": st.fixed_dictionaries(
            {
                "draft_due_days": st.integers(1, 4),
                "review_days": st.integers(1, 4),
                "publish_due_days": st.integers(1, 4),
                "measurement_days": st.integers(1, 4),
                "revision_limit": st.integers(0, 2),
            }
        ),
        "quote": st.integers(1, 5_000_000),
        "bonus_cap": st.one_of(st.just(0), st.integers(1, 1_000_000)),
        "targets": st.lists(st.integers(1, 20_000), min_size=1, max_size=2),
    }
)


# -- the model ------------------------------------------------------------------------------

METRICS = ("views", "likes", "comments", "saves", "shares")


@dataclass
class Model:
    """What the table says the order should be; compared with the server after every step."""

    contract_days: dict[str, int]
    revision_limit: int
    terms: Terms
    kpis: list[dict[str, Any]]
    state: State = State.awaiting_draft
    revisions_used: int = 0
    deadlines: dict[str, datetime | None] = field(default_factory=dict)
    events: list[tuple[str, str | None, str, str]] = field(default_factory=list)
    snapshots: dict[datetime, dict[str, int]] = field(default_factory=dict)
    drafts: list[str] = field(default_factory=list)
    draft_status: dict[str, tuple[str, bool]] = field(default_factory=dict)  # (status, deemed)
    disputes: list[str] = field(default_factory=list)
    settlement: dict[str, Any] | None = None
    seen: dict[str, Any] = field(default_factory=dict)  # the order as last read
    published_at: datetime | None = None

    def facts(self, now: datetime, resolution: str | None = None) -> OrderFacts:
        return OrderFacts(
            state=self.state,
            now=now,
            revisions_used=self.revisions_used,
            revision_limit=self.revision_limit,
            resolution=resolution,
            metrics_inflated=self.metrics_inflated(),
            **self.deadlines,  # type: ignore[arg-type]
        )

    def metrics_inflated(self) -> bool:
        """What orders/inflation.py concludes from the snapshots the model accepted (its rules
        are tested on their own in tests/orders/test_inflation.py)."""
        if self.published_at is None:
            return False
        until = self.deadlines.get("measurement_ends_at")
        taken = [
            SimpleNamespace(taken_at=at, **{k: v for k, v in values.items() if k in METRICS})
            for at, values in self.snapshots.items()
            if until is None or at <= until
        ]
        return bool(inflation.findings(taken, self.published_at))

    def take(
        self, t: Transition, actor: Actor, now: datetime, resolution: str | None, share: int | None
    ) -> None:
        before = self.state
        self.state = t.target
        for column in t.arms:
            self.deadlines[column] = now + timedelta(
                days=self.contract_days[DEADLINE_DURATIONS[column]]
            )
        if t.action == "request_changes" and t.target == State.changes_requested:
            self.revisions_used += 1
        if t.action == "publish":
            self.published_at = now
        self.events.append((t.action, before, t.target, str(actor)))
        if t.payout is not None:
            self.settlement = self.expected_settlement(t.payout, before, resolution, share)

    def bonus(self) -> int:
        bound = self.deadlines["measurement_ends_at"]
        taken = [at for at in self.snapshots if bound is None or at <= bound]
        snapshot = self.snapshots[max(taken)] if taken else None
        met = evaluate_kpis(self.kpis, snapshot)
        return kpi_bonus(self.terms.bonus_cap_amount, met["met"], met["total"])

    def expected_settlement(
        self, payout: Payout, before: State, resolution: str | None, share: int | None
    ) -> dict[str, Any]:
        price_share, bonus = 0, 0
        if payout == Payout.by_stage:
            price_share = CANCELLATION_STAGE_SHARE_BP[before]
        elif payout == Payout.release_with_kpis or (
            payout == Payout.by_resolution and resolution == "release"
        ):
            price_share, bonus = 10_000, self.bonus()
        elif payout == Payout.by_resolution and resolution == "split":
            assert share is not None
            price_share = share
        split = split_escrow(
            self.terms, price_share_bp=price_share, bonus_amount=bonus, reason=str(payout)
        )
        return split.as_dict()


def first_row_actor(action: str, acting: set[Actor]) -> Actor | None:
    return next((t.actor for t in TRANSITIONS if t.action == action and t.actor in acting), None)


def predict(
    step: Act, model: Model, now: datetime, drafts: dict[str, str], dispute_id: str | None
) -> tuple[int, Transition | None, Actor | None]:
    """The status the API should answer and the row it should take (None: refused)."""
    if step.action == "resolve_dispute":
        if (step.resolution == "split") != (step.share is not None):
            return 422, None, None
        if step.who != "staff":
            return 403, None, None
        if dispute_id is None:
            return 404, None, None
        if model.state != State.disputed:
            return 409, None, None  # the order's only dispute is already resolved
        t = find_transition("resolve_dispute", Actor.staff, model.facts(now, step.resolution))
        return (200, t, Actor.staff) if t else (409, None, None)
    acting = ACTING[step.who]
    if acting is None:
        return 404, None, None
    actor = first_row_actor(step.action, acting)
    if actor is None:
        return 403, None, None
    if step.action in {"approve_draft", "request_changes"}:
        draft_id = pick_draft(step, model)
        if draft_id not in drafts:
            return 404, None, None
        if drafts[draft_id] != "in_review":
            return 409, None, None
    t = find_transition(step.action, actor, model.facts(now))
    return (CREATED[step.action], t, actor) if t else (409, None, None)


def pick_draft(step: Act, model: Model) -> str:
    if step.draft == "unknown" or not model.drafts:
        return UNKNOWN_ID
    return model.drafts[0 if step.draft == "earlier" else -1]


def pick_dispute(step: Act, model: Model) -> str | None:
    if step.dispute == "unknown" or not model.disputes:
        return None
    return model.disputes[-1]


# -- talking to the API ---------------------------------------------------------------------


@dataclass
class Cast:
    creator: Who
    owner: Who
    viewer: Who
    outsider: Who
    staff: Who

    @classmethod
    def gather(cls, world: World) -> Cast:
        owner = world.brand()
        return cls(
            creator=world.creator(),
            owner=owner,
            viewer=world.member(owner, "viewer"),
            outsider=world.brand(),
            staff=world.staff(),
        )

    def __getitem__(self, name: str) -> Who:
        return getattr(self, name)  # type: ignore[no-any-return]


def send(world: World, cast: Cast, order_id: str, step: Act, model: Model) -> Any:
    client, headers = world.client, cast[step.who].headers
    base = f"/api/v1/orders/{order_id}"
    if step.action == "submit_draft":
        body = {"title": "Glow", "body": "My honest review #ad", "hashtags": ["ad"]}
        return client.post(f"{base}/drafts", json=body, headers=headers)
    if step.action == "approve_draft":
        draft = pick_draft(step, model)
        return client.post(f"{base}/drafts/{draft}/approve", json={"note": "ok"}, headers=headers)
    if step.action == "request_changes":
        draft = pick_draft(step, model)
        return client.post(
            f"{base}/drafts/{draft}/request-changes",
            json={"feedback": "Show the texture"},
            headers=headers,
        )
    if step.action == "publish":
        body = {"post_url": "https://www.xiaohongshu.com/explore/abc123"}
        return client.post(f"{base}/publication", json=body, headers=headers)
    if step.action == "cancel":
        return client.post(f"{base}/cancel", json={"reason": "changed plans"}, headers=headers)
    if step.action == "open_dispute":
        return client.post(f"{base}/disputes", json={"reason": "unhappy"}, headers=headers)
    body: dict[str, Any] = {"resolution": step.resolution, "note": "decided"}
    if step.share is not None:
        body["creator_share_bp"] = step.share
    dispute = pick_dispute(step, model) or UNKNOWN_ID
    return client.post(f"/api/v1/disputes/{dispute}/resolve", json=body, headers=headers)


def assert_answer_is_well_formed(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        assert response.status_code < 500
        assert response.headers["content-type"].startswith(PROBLEM), response.headers
        problem = response.json()
        assert problem["status"] == response.status_code and problem["code"], problem
    else:
        assert 200 <= response.status_code < 300, (response.status_code, response.text)


def when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def start_order(world: World, cast: Cast, plan: dict[str, Any]) -> tuple[str, Model]:
    bonus_cap = plan["bonus_cap"]
    campaign = world.campaign(
        cast.owner,
        budget_amount=100_000_000,
        timeline=plan["timeline"],
        compensation_model="fixed_plus_bonus" if bonus_cap else "fixed_fee",
        compensation={"bonus_cap_amount": bonus_cap},
        kpis=[
            {"metric": metric, "target": target}
            for metric, target in zip(("views", "engagements"), plan["targets"], strict=False)
        ],
    )
    application = world.application(cast.creator, campaign, quote=plan["quote"])
    # the owner is shared by every example: top the wallet up by more than this escrow
    world.fund(cast.owner, WALLET_TOP_UP)
    accepted = ok(
        world.client.post(
            f"/api/v1/applications/{application['id']}/accept", headers=cast.owner.headers
        ),
        201,
    )
    order = world.get_order(accepted["order"]["id"], cast.staff)
    contract = order["contract"]
    money = contract["money"]
    model = Model(
        contract_days=contract["deadlines"],
        revision_limit=order["revision_limit"],
        terms=Terms(
            price_amount=money["price_amount"],
            bonus_cap_amount=money["bonus_cap_amount"],
            brand_fee_bp=money["brand_fee_bp"],
            creator_commission_bp=money["creator_commission_bp"],
        ),
        kpis=contract["kpis"],
        # The fix window opens only on a scheduled read of a post (not in these walks).
        deadlines=dict.fromkeys([*DEADLINE_DURATIONS, "compliance_fix_due_at"]),
        events=[("create_order", None, State.awaiting_draft, str(Actor.brand))],
    )
    assert model.revision_limit == plan["timeline"]["revision_limit"]
    model.deadlines["draft_due_at"] = clock.now() + timedelta(
        days=model.contract_days["draft_due_days"]
    )
    return str(order["id"]), model


# -- what must hold after every step --------------------------------------------------------


def check_order_matches_model(world: World, cast: Cast, order_id: str, model: Model) -> dict:
    order = world.get_order(order_id, cast.staff)
    assert order["state"] == model.state
    assert order["revisions_used"] == model.revisions_used <= order["revision_limit"]
    deadlines = {k: when(v) for k, v in order["deadlines"].items()}
    assert deadlines == model.deadlines
    if model.state in TERMINAL:
        settlement = order["settlement"]
        assert settlement == model.settlement
        legs = settlement["to_creator"] + settlement["to_platform"] + settlement["to_brand"]
        assert legs == order["escrow_amount"]
    else:
        assert order["settlement"] is None
    assert (order["open_dispute_id"] is not None) == (model.state == State.disputed)
    drafts = ok(
        world.client.get(f"/api/v1/orders/{order_id}/drafts?limit=100", headers=cast.staff.headers)
    )["items"]
    assert {d["id"]: (d["status"], d["deemed"]) for d in drafts} == model.draft_status
    if model.state == State.draft_review:  # exactly the latest draft is in review
        assert [d["id"] for d in drafts if d["status"] == "in_review"] == model.drafts[-1:]
    if model.seen and len(model.events) == model.seen["events"]:
        # nothing happened: a refused action changes nothing at all
        assert order["version"] == model.seen["version"]
        assert order["updated_at"] == model.seen["updated_at"]
    elif model.seen:
        assert order["version"] > model.seen["version"]
    model.seen = {
        "events": len(model.events),
        "version": order["version"],
        "updated_at": order["updated_at"],
    }
    return dict(order)


def check_event_trail(world: World, cast: Cast, order_id: str, model: Model) -> None:
    events = ok(
        world.client.get(f"/api/v1/orders/{order_id}/events?limit=100", headers=cast.staff.headers)
    )["items"]
    assert [(e["action"], e["from_state"], e["to_state"], e["actor_kind"]) for e in events] == [
        (action, before, after, actor) for action, before, after, actor in model.events
    ]
    previous_hash, previous_state = service.GENESIS_HASH, None
    for sequence, entry in enumerate(events, start=1):
        assert entry["sequence"] == sequence
        assert entry["prev_hash"] == previous_hash
        assert entry["from_state"] == previous_state
        previous_hash, previous_state = entry["hash"], entry["to_state"]
        if sequence > 1:  # every change is a row of the table, by the actor the row names
            assert any(
                t.action == entry["action"]
                and t.actor == entry["actor_kind"]
                and entry["from_state"] in t.sources
                and t.target == entry["to_state"]
                for t in TRANSITIONS
            ), entry
    assert previous_state == model.state
    with world.db.unit_of_work(write=False) as session:
        assert service.verify_event_chain(session, order_id)


def check_allowed_actions(order: dict, step: Act, model: Model, now: datetime) -> None:
    acting = ACTING[step.who]
    assert acting is not None
    expected = [t.action for t in allowed_actions(acting, model.facts(now))]
    assert [a["action"] for a in order["allowed_actions"]] == expected


def sensible_steps(model: Model, now: datetime) -> list[tuple[str, str]]:
    return [
        (who, t.action)
        for who, acting in ACTING.items()
        if acting
        for t in allowed_actions(acting, model.facts(now))
    ]


# -- the property ---------------------------------------------------------------------------


def run_step(world: World, cast: Cast, order_id: str, model: Model, step: Any) -> None:
    if isinstance(step, Wait):
        clock.advance(step.delta)
        now = clock.now()
        fired = next(
            (
                found
                for t in timer_transitions()
                if (found := find_transition(t.action, Actor.system, model.facts(now)))
            ),
            None,
        )
        world.sweep()
        if fired is not None:
            model.take(fired, Actor.system, now, None, None)
            if fired.action == "deem_approval":
                model.draft_status[model.drafts[-1]] = ("approved", True)
        return
    now = clock.now()
    if isinstance(step, Measure):
        values = {"views": step.views, "likes": step.likes}
        response = world.client.post(
            f"/api/v1/orders/{order_id}/metrics",
            json={"taken_at": now.isoformat(), **values},
            headers=cast.staff.headers,
        )
        assert_answer_is_well_formed(response)
        full = {m: values.get(m, 0) for m in ("views", "likes", "comments", "saves", "shares")}
        full |= {"clicks": 0, "conversions": 0}
        published = any(action == "publish" for action, *_ in model.events)
        if model.state not in METRIC_STATES or not published:
            assert response.status_code == 409, response.text
        elif now in model.snapshots:
            assert response.status_code == (200 if model.snapshots[now] == full else 409)
        else:
            assert response.status_code == 201, response.text
            model.snapshots[now] = full
        return
    if ACTING[step.who] is not None:
        as_caller = world.get_order(order_id, cast[step.who])
        check_allowed_actions(as_caller, step, model, now)
    drafts = {i: status for i, (status, _) in model.draft_status.items()}
    status, expected, actor = predict(step, model, now, drafts, pick_dispute(step, model))
    response = send(world, cast, order_id, step, model)
    assert_answer_is_well_formed(response)
    assert response.status_code == status, (step, model.state, response.text)
    if expected is None:
        return  # check_order_matches_model then checks nothing changed
    assert actor is not None
    resolving = step.action == "resolve_dispute"
    model.take(
        expected,
        actor,
        now,
        step.resolution if resolving else None,
        step.share if resolving else None,
    )
    if step.action == "submit_draft":
        model.drafts.append(response.json()["id"])
        model.draft_status[model.drafts[-1]] = ("in_review", False)
    if step.action in {"approve_draft", "request_changes"}:
        reviewed = "approved" if step.action == "approve_draft" else "changes_requested"
        model.draft_status[pick_draft(step, model)] = (reviewed, False)
    if step.action == "open_dispute":
        model.disputes.append(response.json()["id"])
    if expected.target == State.disputed and step.action == "request_changes":
        model.disputes.append(world.get_order(order_id, cast.staff)["open_dispute_id"])


def test_random_walks_over_http_follow_the_transition_table(world: World) -> None:
    cast = Cast.gather(world)

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.data(), plan=plans)
    def walk(data: st.DataObject, plan: dict[str, Any]) -> None:
        clock.reset()
        clock.freeze()
        order_id, model = start_order(world, cast, plan)
        check_order_matches_model(world, cast, order_id, model)
        for _ in range(data.draw(st.integers(6, MAX_STEPS), label="steps")):
            step = data.draw(steps(sensible_steps(model, clock.now())))
            run_step(world, cast, order_id, model, step)
            check_order_matches_model(world, cast, order_id, model)
            check_event_trail(world, cast, order_id, model)

    try:
        walk()
    finally:
        clock.reset()


def test_the_model_settles_like_the_service_on_a_known_walk(world: World) -> None:
    # a fixed walk through the same machinery, so a broken harness cannot pass vacuously
    cast = Cast.gather(world)
    clock.freeze()
    plan = {
        "timeline": {
            "draft_due_days": 2,
            "review_days": 2,
            "publish_due_days": 2,
            "measurement_days": 3,
            "revision_limit": 1,
        },
        "quote": 500_000,
        "bonus_cap": 100_000,
        "targets": [10_000, 900],
    }
    order_id, model = start_order(world, cast, plan)
    walk = [
        Act("creator", "submit_draft"),
        Act("owner", "request_changes"),
        Act("viewer", "approve_draft"),
        Act("creator", "submit_draft"),
        Wait(timedelta(days=2)),  # exactly the review deadline: deemed approval
        Act("creator", "publish"),
        Measure(views=12_000, likes=500),
        Wait(timedelta(days=3)),  # exactly the end of the measurement window
    ]
    for step in walk:
        run_step(world, cast, order_id, model, step)
        check_order_matches_model(world, cast, order_id, model)
        check_event_trail(world, cast, order_id, model)
    assert [e[0] for e in model.events] == [
        "create_order",
        "submit_draft",
        "request_changes",
        "submit_draft",
        "deem_approval",
        "publish",
        "complete",
    ]
    assert model.state == State.completed
    assert model.settlement is not None
    assert model.settlement["bonus_amount"] == 50_000  # views met, engagements not


def test_an_order_never_published_takes_no_metrics_and_earns_no_bonus(world: World) -> None:
    # given an order with a KPI bonus, disputed before any draft
    staff = world.staff()
    order_id, brand, _ = world.order(
        compensation_model="fixed_plus_bonus",
        compensation={"bonus_cap_amount": 100_000},
        kpis=[{"metric": "views", "target": 10_000}],
    )
    ok(
        world.client.post(
            f"/api/v1/orders/{order_id}/disputes",
            json={"reason": "no contact"},
            headers=brand.headers,
        ),
        201,
    )
    # when staff record metrics for it
    response = world.metrics(order_id, staff, views=50_000)
    # then they are refused, as for any order not yet published
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "order_not_in_state"
    # and releasing the escrow pays the price without a KPI bonus
    order = world.get_order(order_id, staff)
    ok(
        world.client.post(
            f"/api/v1/disputes/{order['open_dispute_id']}/resolve",
            json={"resolution": "release", "note": "creator was never contacted"},
            headers=staff.headers,
        )
    )
    settlement = world.get_order(order_id, brand)["settlement"]
    assert settlement["bonus_amount"] == 0
    assert settlement["creator_gross_amount"] == order["price_amount"]
